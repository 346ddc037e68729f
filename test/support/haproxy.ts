import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The haproxy binary (PATH, then Debian's /usr/sbin), or undefined when not installed. */
export function haproxyBinary(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin'];
  return dirs
    .filter((dir) => dir.startsWith('/'))
    .map((dir) => join(dir, 'haproxy'))
    .find((path) => existsSync(path));
}

export interface HaproxyOptions {
  /** The port HAProxy listens on (127.0.0.1). */
  port: number;
  /** The API instances' ports (127.0.0.1), in server order: `api1`, `api2`, ... */
  servers: readonly number[];
  /** Where the admin socket lives (the test's temp dir). */
  socket: string;
}

/**
 * The reference configuration of docs/deploying.md ("HAProxy in front of N instances"), as a
 * template: HTTP mode, round robin, a readiness check on /health/ready every second (down
 * after 3 failures, so within ~3 s of SIGTERM, inside SHUTDOWN_DRAIN_MS's 5 s; up after 2
 * successes; a slow answer is waited for up to 5 s), at most 10 requests at once per
 * instance (the rest queue in HAProxy), connection-level retries on another server. Only
 * errors are logged (stdout).
 */
export function haproxyConfig({ port, servers, socket }: HaproxyOptions): string {
  return `global
  maxconn 2000
  log stdout format raw local0 info
  stats socket ${socket} mode 600 level admin

defaults
  mode http
  log global
  option httplog
  option dontlog-normal
  option dontlognull
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 10s
  # A connection refused (an instance that just stopped listening) is tried again, on
  # another server: no request has reached an application yet.
  retries 3
  option redispatch 1

frontend api
  bind 127.0.0.1:${port}
  option forwardfor
  default_backend apps

backend apps
  balance roundrobin
  option httpchk GET /health/ready
  http-check expect status 200
  # A check may take its time on a busy instance (a timed-out check counts as a failure);
  # a stopping instance answers 503 at once, so it is out within inter x fall (3 s), well
  # inside SHUTDOWN_DRAIN_MS (5 s).
  timeout check 5s
  # At most DATABASE_POOL_MAX (10) requests at once per instance; the rest wait here (up to
  # timeout queue), not in the instance's pool queue, where the readiness check would wait
  # behind them and time out on a busy but healthy instance.
  timeout queue 30s
  default-server inter 1s fall 3 rise 2 maxconn 10
${servers.map((p, i) => `  server api${i + 1} 127.0.0.1:${p} check`).join('\n')}
`;
}

export interface Haproxy {
  pid: number;
  port: number;
  /** HAProxy's output so far (errors only: failed requests, servers going up and down). */
  output: string[];
  /** The backend servers' states as HAProxy sees them (`UP`, `DOWN`, ...), by server name. */
  serverStates(): Promise<Record<string, string>>;
  /** Waits (at most `ms`) until HAProxy has `server` in the given state. */
  waitForState(server: string, state: 'UP' | 'DOWN', ms?: number): Promise<void>;
  /** Stops HAProxy (SIGTERM, by PID) and removes its temp dir. */
  stop(): Promise<void>;
}

/** One command on HAProxy's admin socket; resolves with its whole answer. */
function adminCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = net.connect({ path: socket });
    let answer = '';
    client.setEncoding('utf8');
    client.on('data', (chunk: string) => (answer += chunk));
    client.on('end', () => resolve(answer));
    client.on('error', reject);
    client.write(`${command}\n`);
  });
}

/**
 * Writes the configuration (haproxyConfig) to a temp dir and runs HAProxy in the foreground
 * (`-db`), as a child of the test: started and stopped by its PID. Resolves once its admin
 * socket answers.
 */
export async function startHaproxy(options: Omit<HaproxyOptions, 'socket'>): Promise<Haproxy> {
  const binary = haproxyBinary();
  if (binary === undefined) {
    throw new Error('haproxy is not installed (Debian: apt-get install -y haproxy)');
  }
  const dir = await mkdtemp(join(tmpdir(), 'nest-saas-haproxy-'));
  const socket = join(dir, 'admin.sock');
  const config = join(dir, 'haproxy.cfg');
  await writeFile(config, haproxyConfig({ ...options, socket }));
  const child: ChildProcess = spawn(binary, ['-db', '-f', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const serverStates = async (): Promise<Record<string, string>> => {
    const csv = await adminCommand(socket, 'show stat');
    const states: Record<string, string> = {};
    for (const line of csv.split('\n')) {
      const [proxy, server, ...rest] = line.split(',');
      // Column 18 of `show stat` is `status`.
      if (proxy === 'apps' && server && server !== 'BACKEND') states[server] = rest[15] ?? '';
    }
    return states;
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`haproxy exited at start:\n${output.join('')}`);
    }
    try {
      await serverStates();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`haproxy's admin socket did not answer within 10 s:\n${output.join('')}`);
      }
      await sleep(100);
    }
  }
  return {
    pid: child.pid!,
    port: options.port,
    output,
    serverStates,
    async waitForState(server, state, ms = 30_000) {
      const until = Date.now() + ms;
      for (;;) {
        const states = await serverStates();
        if (states[server]?.startsWith(state)) return;
        if (Date.now() > until) {
          throw new Error(
            `haproxy did not see ${server} ${state} within ${ms} ms (${JSON.stringify(states)}):\n${output.join('')}`,
          );
        }
        await sleep(100);
      }
    },
    stop,
  };
}
