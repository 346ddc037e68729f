import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** Resident set size now and its peak (VmHWM) since the process started, in MB. */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number =>
      Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** A Node server process under test: started, polled until ready, stopped by its own pid. */
export class ServerProcess {
  readonly stderr: string[] = [];
  private exited: Promise<number | null>;
  private peakRssMb = 0;
  private sampler: NodeJS.Timeout | undefined;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly port: number,
    readonly startedAt: number,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim()) this.stderr.push(line);
      if (this.stderr.length > 200) this.stderr.splice(0, this.stderr.length - 200);
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Spawns `node <args>` with `env` (stdout to /dev/null: the app logs every request there,
   * which costs the same serialization and write() as in production), then polls
   * `readyPath` every 10 ms; `readyMs` is spawn → first 200.
   */
  static async start(
    name: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    port: number,
    readyPath = '/health/ready',
    timeoutMs = 60_000,
  ): Promise<{ server: ServerProcess; readyMs: number }> {
    const startedAt = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const server = new ServerProcess(name, child, port, startedAt);
    let exitCode: number | null | undefined;
    void server.exited.then((code) => (exitCode = code));
    const deadline = startedAt + timeoutMs;
    while (performance.now() < deadline) {
      if (exitCode !== undefined) {
        throw new Error(
          `${name} exited (code ${exitCode}) before it was ready:\n${server.stderr.join('\n')}`,
        );
      }
      try {
        const response = await fetch(`${server.url}${readyPath}`);
        await response.arrayBuffer();
        if (response.status === 200) {
          server.sampler = setInterval(() => {
            const mem = memoryOf(child.pid ?? -1);
            if (mem) server.peakRssMb = Math.max(server.peakRssMb, mem.rssMb);
          }, 200);
          server.sampler.unref();
          return { server, readyMs: performance.now() - startedAt };
        }
      } catch {
        // not listening yet
      }
      await sleep(10);
    }
    await server.stop();
    throw new Error(`${name} was not ready within ${timeoutMs} ms:\n${server.stderr.join('\n')}`);
  }

  /** Peak RSS in MB: the kernel's high-water mark (VmHWM), else the highest 200 ms sample. */
  peakMemoryMb(): number {
    const mem = memoryOf(this.child.pid ?? -1);
    return Math.max(mem?.peakMb ?? 0, this.peakRssMb);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }

  /** SIGTERM (graceful shutdown), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    clearInterval(this.sampler);
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Runs `node <args>` to completion and returns its stdout (bounded by `timeoutMs`). */
export function runNode(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`node ${args.join(' ')} exited with ${code}: ${err.trim()}`));
    });
  });
}
