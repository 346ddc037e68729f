import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const SCRIPT = fileURLToPath(new URL('./pgbouncer.sh', import.meta.url));

/** The pgbouncer binary (PATH, then Debian's /usr/sbin), or undefined when not installed. */
export function pgBouncerBinary(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin'];
  return dirs
    .filter((dir) => dir.startsWith('/'))
    .map((dir) => join(dir, 'pgbouncer'))
    .find((path) => existsSync(path));
}

/**
 * Whether a test that needs PgBouncer runs: it always does in CI (CI=true; .ci/run installs
 * it, so a missing binary fails there); elsewhere only when it is installed.
 */
export function pgBouncerAvailable(): boolean {
  return process.env.CI === 'true' || pgBouncerBinary() !== undefined;
}

export interface PgBouncer {
  port: number;
  /** PgBouncer's process id (its CPU time, for the bench). */
  pid: number;
  /** `databaseUrl` (same user, password and database) through this PgBouncer. */
  url(databaseUrl: string): string;
  /** PgBouncer's log so far (for a failing test's message). */
  log(): Promise<string>;
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  /** Server connections per database and user (default 20). */
  poolSize?: number;
  /** Startup parameters PgBouncer drops instead of refusing the client (default none). */
  ignoreStartupParameters?: readonly string[];
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts a PgBouncer in transaction mode (test/support/pgbouncer.sh, which CI uses too) on a
 * free loopback port, in front of the server of `serverUrl`, logging in as its user.
 */
export async function startPgBouncer(
  serverUrl: string,
  options: PgBouncerOptions = {},
): Promise<PgBouncer> {
  const server = new URL(serverUrl);
  const workDir = await mkdtemp(join(tmpdir(), 'nest-saas-pgbouncer-'));
  // mkdtemp makes it private; as root, PgBouncer runs as `postgres` and must enter it.
  await chmod(workDir, 0o755);
  const port = await freePort();
  const run = (args: string[]) =>
    promisify(execFile)(SCRIPT, args, {
      env: {
        ...process.env,
        PGBOUNCER_POOL_SIZE: String(options.poolSize ?? 20),
        PGBOUNCER_IGNORE_STARTUP_PARAMETERS: (options.ignoreStartupParameters ?? []).join(','),
      },
    });
  await run([
    'start',
    workDir,
    String(port),
    server.hostname || '127.0.0.1',
    server.port || '5432',
    decodeURIComponent(server.username || 'postgres'),
    decodeURIComponent(server.password),
  ]);
  const pid = Number((await readFile(join(workDir, 'pgbouncer.pid'), 'utf8')).trim());
  return {
    port,
    pid,
    url(databaseUrl) {
      const url = new URL(databaseUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    log: () => readFile(join(workDir, 'pgbouncer.log'), 'utf8').catch(() => ''),
    async stop() {
      await run(['stop', workDir]);
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
