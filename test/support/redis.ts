import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A Redis server for a test: the machine's, or one of the test's own. */
export interface TestRedis {
  url: string;
  /** Where it came from, for the test log. */
  source: 'machine' | 'own';
  /** Stops the test's own server (the machine's is left alone). */
  stop(): Promise<void>;
}

const MACHINE = { host: '127.0.0.1', port: 6379 };
const SERVER_BINARY = 'redis-server';

export const REDIS_HOW_TO =
  `No Redis: neither ${MACHINE.host}:${MACHINE.port} answers PING nor is a \`${SERVER_BINARY}\` binary on PATH. ` +
  'Start Redis there, or install it (`apt-get install -y redis-server`) so the test can start its own.';

/** True when a Redis server answers PING (+PONG) on host:port within `timeoutMs`. */
export function pingRedis(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let answer = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

export function hasRedisServerBinary(): boolean {
  return spawnSync(SERVER_BINARY, ['--version']).status === 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/**
 * The machine's Redis at 127.0.0.1:6379 when it answers; else a `redis-server` of the test's
 * own on a free port (no persistence), once it answers PING. Undefined when neither works.
 * Tests sharing the machine's server must use keys of their own (unique emails, addresses).
 */
export async function acquireRedis(machine = MACHINE): Promise<TestRedis | undefined> {
  if (await pingRedis(machine.host, machine.port)) {
    return {
      url: `redis://${machine.host}:${machine.port}`,
      source: 'machine',
      stop: () => Promise.resolve(),
    };
  }
  if (!hasRedisServerBinary()) return undefined;
  const port = await freePort();
  const child: ChildProcess = spawn(
    SERVER_BINARY,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await pingRedis('127.0.0.1', port, 200)) {
      return { url: `redis://127.0.0.1:${port}`, source: 'own', stop };
    }
    if (child.exitCode !== null) break;
    await sleep(100);
  }
  await stop();
  return undefined;
}
