import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = process.cwd();

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** `npm run build` unless dist/ is newer than every source file. */
export async function ensureBuilt(): Promise<void> {
  const outputs = [
    'dist/main.js',
    'dist/worker.js',
    'dist/bundle/main.js',
    'dist/bundle/worker.js',
    'admin-bundle/bundle.js',
  ].map((p) => join(ROOT, p));
  const built = outputs.every(existsSync)
    ? Math.min(...outputs.map((p) => statSync(p).mtimeMs))
    : 0;
  const sources = Math.max(
    newestMtime(join(ROOT, 'src')),
    statSync(join(ROOT, 'package-lock.json')).mtimeMs,
  );
  if (built > sources) return;
  await run('npm', ['run', 'build'], { cwd: ROOT, timeout: 240_000 });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A process of the built app (`dist/…`), its output kept for failure messages. */
export interface Proc {
  name: string;
  child: ChildProcess;
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The run's database settings for a spawned app or worker: the test database's URL and, when
 * the run goes through a pooler (global setup), its direct URL and DB_POOLER.
 */
export function databaseEnv(): Record<string, string> {
  return {
    DATABASE_URL: process.env.DATABASE_URL ?? '',
    DATABASE_DIRECT_URL: process.env.DATABASE_DIRECT_URL ?? '',
    DB_POOLER: process.env.DB_POOLER ?? '',
  };
}

/** Starts `node <script>` from the repository root with only PATH and `env` set. */
export function startProcess(name: string, script: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  // 'close', not 'exit': 'exit' may come before the last of the output has been read from the
  // pipes (a test that reads the final log line, e.g. "stopped in N ms", would miss it).
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return { name, child, output, exited };
}

/** Waits (at most 90 s) until the process on `port` answers 200 on /health/ready. */
export async function waitReady(port: number, proc: Proc): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) break;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`${proc.name} did not get ready:\n${proc.output.join('')}`);
}
