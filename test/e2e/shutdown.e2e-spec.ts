import { beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Inject, Module } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { sql } from 'drizzle-orm';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net, { type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Public } from '../../src/common/decorators/public.decorator.js';
import { DRIZZLE, type Database } from '../../src/database/database.tokens.js';
import { createTestApp, freshJobsSchema } from '../support/app.js';
import {
  databaseEnv,
  ensureBuilt,
  freePort,
  startProcess,
  waitReady,
  type Proc,
} from '../support/processes.js';

let entered: () => void = () => undefined;

/** A slow route that still needs the database after shutdown has begun. */
// Test-only: not part of the API contract, so not in the OpenAPI document.
@ApiExcludeController()
@Public()
@Controller('slow-probe')
class SlowProbeController {
  constructor(@Inject(DRIZZLE) private readonly db: Database) {}

  @Get()
  async slow(): Promise<{ answer: number }> {
    entered();
    await sleep(300);
    const result = await this.db.execute<{ answer: number }>(sql`select 42 as answer`);
    return { answer: Number(result.rows[0]?.answer) };
  }
}

@Module({ controllers: [SlowProbeController] })
class SlowProbeModule {}

describe('graceful shutdown', () => {
  it('finishes an in-flight request (database included) before closing the pool', async () => {
    const t = await createTestApp({ imports: [SlowProbeModule] });
    await new Promise<void>((resolve) => t.app.getHttpServer().listen(0, '127.0.0.1', resolve));
    const { port } = t.app.getHttpServer().address() as { port: number };
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const response = fetch(`http://127.0.0.1:${port}/api/v1/slow-probe`);
    await inside;
    const closed = t.close();
    const res = await response;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ answer: 42 });
    await closed;
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });
});

interface SocketLog {
  errors: Error[];
  /** The server ended the connection (FIN). */
  ended: boolean;
  closed: Promise<boolean>;
}

/** Watches a client socket from now on: errors, a clean end, and its close (hadError). */
function watch(socket: Socket): SocketLog {
  const log: SocketLog = { errors: [], ended: false, closed: Promise.resolve(false) };
  socket.on('error', (error) => log.errors.push(error));
  socket.on('end', () => (log.ended = true));
  log.closed = new Promise((resolve) => socket.once('close', resolve));
  return log;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  socket: Socket;
}

function get(agent: http.Agent, port: number, path: string, onSocket?: (s: Socket) => void) {
  return new Promise<Answer>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, socket: req.socket! }),
      );
      res.on('error', reject);
    });
    req.on('socket', (socket) => onSocket?.(socket));
    req.on('error', reject);
  });
}

/**
 * A keep-alive connection made with a plain socket: one request, its whole response read, then
 * left idle. Watched on the socket itself, not through an http.Agent: since Node 24 (a fix for
 * response-queue poisoning) the Agent destroys an idle pooled socket as soon as anything
 * arrives on it, FIN or RST alike, so through an Agent a clean close cannot be told from a reset.
 */
async function idleKeepAliveConnection(port: number, path: string) {
  const socket = net.connect({ host: '127.0.0.1', port });
  const log = watch(socket);
  let received = '';
  const head = await new Promise<string>((resolve, reject) => {
    socket.setEncoding('utf8');
    const onData = (chunk: string): void => {
      received += chunk;
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = /\r\ncontent-length: *(\d+)/i.exec(received.slice(0, end));
      if (!length || received.length < end + 4 + Number(length[1])) return;
      socket.off('data', onData);
      // Keep reading (so an end or a reset is seen) without keeping the data.
      socket.on('data', () => undefined);
      resolve(received.slice(0, end));
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  });
  return { log, head, socket };
}

describe('graceful shutdown with keep-alive clients', () => {
  it('answers in-flight requests with Connection: close and ends idle sockets cleanly', async () => {
    const t = await createTestApp({ imports: [SlowProbeModule] });
    await new Promise<void>((resolve) => t.app.getHttpServer().listen(0, '127.0.0.1', resolve));
    const { port } = t.app.getHttpServer().address() as { port: number };
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let idleSocket: Socket | undefined;
    try {
      // A keep-alive connection that stays idle after its request.
      const idleConnection = await idleKeepAliveConnection(port, '/health');
      idleSocket = idleConnection.socket;
      expect(idleConnection.head).toMatch(/^HTTP\/1\.1 200 /);
      expect(idleConnection.head).toMatch(/\r\nconnection: keep-alive/i);
      const idle = idleConnection.log;

      // Another keep-alive connection (idle in the agent) that then carries a slow request.
      const first = await get(agent, port, '/health');
      expect([first.status, first.headers.connection]).toEqual([200, 'keep-alive']);
      const busy = watch(first.socket);
      const inside = new Promise<void>((resolve) => (entered = resolve));
      let busySocket: Socket | undefined;
      const slow = get(agent, port, '/api/v1/slow-probe', (s) => (busySocket = s));
      await inside;
      expect(busySocket).toBe(first.socket);

      const closed = t.close();
      const res = await slow; // rejects on ECONNRESET / socket hang up
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ answer: 42 });
      expect(res.headers.connection).toBe('close');
      await closed;

      // The idle connection was closed by the server with a FIN: no reset, no error.
      expect(await idle.closed).toBe(false);
      expect(idle).toMatchObject({ ended: true, errors: [] });
      // The busy one closed after its response, as `Connection: close` says, without error.
      expect(await busy.closed).toBe(false);
      expect(busy.errors).toEqual([]);
    } finally {
      idleSocket?.destroy();
      agent.destroy();
    }
  });
});

/** One answer seen by a load client: when its request was sent, and the Connection header. */
interface Seen {
  /** The load client that saw it (0 to clients - 1). */
  client?: number;
  sentAt: number;
  status: number;
  connection: string | undefined;
}

interface Load {
  seen: Seen[];
  /** Client-side failures other than a refused connection (ECONNRESET, socket hang up, ...). */
  failures: string[];
  /** Clients that stopped because the server no longer accepted connections. */
  refused: number;
  /** Settles when every client has stopped. */
  done: Promise<void>;
}

/**
 * A GET that resolves with the answer, or with the error it failed with (told apart by
 * `status`: Node's errors come from another realm than the test's `Error`).
 */
function request(
  agent: http.Agent | false,
  port: number,
  path: string,
): Promise<Seen | { status?: undefined; code: string; message: string }> {
  const sentAt = Date.now();
  return new Promise((resolve) => {
    const failed = (error: NodeJS.ErrnoException) =>
      resolve({ code: error.code ?? '', message: error.message });
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ sentAt, status: res.statusCode ?? 0, connection: res.headers.connection }),
      );
      res.on('error', failed);
    });
    req.on('error', failed);
  });
}

/**
 * `clients` keep-alive clients (an agent with one socket each), each sending GET `path` in a
 * loop until `stop()` says so, its connection is refused (the server stopped listening), or
 * it has sent `maxRequests`.
 */
function keepAliveLoad(
  port: number,
  path: string,
  options: { clients: number; maxRequests: number; stop: () => boolean },
): Load {
  const load: Omit<Load, 'done'> = { seen: [], failures: [], refused: 0 };
  const done = Promise.all(
    Array.from({ length: options.clients }, async (_, client) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let i = 0; i < options.maxRequests && !options.stop(); i++) {
          const answer = await request(agent, port, path);
          if (answer.status !== undefined) {
            load.seen.push({ ...answer, client });
          } else if (answer.code === 'ECONNREFUSED') {
            load.refused++;
            return;
          } else {
            load.failures.push(`client ${client}, request ${i}: ${answer.code} ${answer.message}`);
          }
        }
      } finally {
        agent.destroy();
      }
    }),
  ).then(() => undefined);
  return Object.assign(load, { done });
}

describe('SIGTERM on the built server under keep-alive load (e2e, dist/bundle/main.js)', () => {
  const CLIENTS = 20;
  let jobsSchema: string;

  beforeAll(async () => {
    await ensureBuilt();
    jobsSchema = await freshJobsSchema();
  }, 300_000);

  async function startServer(env: Record<string, string>): Promise<{ port: number; proc: Proc }> {
    const port = await freePort();
    const proc = startProcess('api', 'dist/bundle/main.js', {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      ...databaseEnv(),
      JWT_SECRET: randomBytes(32).toString('hex'),
      APP_URL: 'http://app.test',
      JOBS_SCHEMA: jobsSchema,
      PORT: String(port),
      ...env,
    });
    await waitReady(port, proc);
    return { port, proc };
  }

  /**
   * Waits (a bounded while) until every client has had `count` answers on its keep-alive
   * connection. A connection still being opened when the server stops listening is reset by
   * the kernel (the accept queue), which no server code can prevent: that is what the drain
   * window (SHUTDOWN_DRAIN_MS) is for.
   */
  async function warmedUp(load: Load, count: number): Promise<void> {
    const answered = () =>
      Array.from({ length: CLIENTS }, (_, client) =>
        load.seen.reduce((n, s) => n + (s.client === client ? 1 : 0), 0),
      );
    for (let i = 0; i < 400 && Math.min(...answered()) < count; i++) await sleep(25);
    expect(Math.min(...answered())).toBeGreaterThanOrEqual(count);
  }

  /** The process's exit (SIGKILLed after 30 s if it has not exited by then). */
  async function exitOf(proc: Proc): Promise<unknown> {
    const timer = new AbortController();
    const exit = await Promise.race([
      proc.exited,
      sleep(30_000, 'still running', { signal: timer.signal }).catch(() => 'aborted'),
    ]);
    timer.abort();
    if (exit === 'still running') proc.child.kill('SIGKILL');
    return exit;
  }

  it('turns not-ready at once, serves with Connection: close for SHUTDOWN_DRAIN_MS, resets no client', async () => {
    const drainMs = 2000;
    const { port, proc } = await startServer({ SHUTDOWN_DRAIN_MS: String(drainMs) });
    // A balancer: polls readiness on fresh connections; once it has seen the instance not
    // ready three times it sends it no more requests (those in flight finish).
    const readiness: { sentAt: number; status: number }[] = [];
    let outOfRotation = false;
    const poller = (async () => {
      for (let i = 0; i < 1000; i++) {
        const answer = await request(false, port, '/health/ready');
        if (answer.status === undefined) return;
        readiness.push(answer);
        if (readiness.filter((r) => r.status === 503).length >= 3) outOfRotation = true;
        await sleep(50);
      }
    })();
    const load = keepAliveLoad(port, '/health', {
      clients: CLIENTS,
      maxRequests: 5000,
      stop: () => outOfRotation,
    });
    await warmedUp(load, 5);
    expect(load.seen.every((s) => s.status === 200 && s.connection === 'keep-alive')).toBe(true);

    const signalledAt = Date.now();
    proc.child.kill('SIGTERM');
    await Promise.all([load.done, poller]);
    const exit = await exitOf(proc);

    expect(load.failures).toEqual([]);
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
    // Not ready from the signal on (the first poll after it may have been answered first).
    const after = readiness.filter((r) => r.sentAt > signalledAt);
    const firstNotReady = after.findIndex((r) => r.status === 503);
    expect(firstNotReady).toBeGreaterThanOrEqual(0);
    expect(firstNotReady).toBeLessThanOrEqual(1);
    expect(after.slice(firstNotReady).every((r) => r.status === 503)).toBe(true);
    // Still not ready, and still answering, for the whole drain window.
    const notReadyFor = (after.at(-1)?.sentAt ?? 0) - after[firstNotReady]!.sentAt;
    expect(notReadyFor).toBeGreaterThanOrEqual(drainMs - 500);
    // Requests sent during the drain were served, each with Connection: close.
    const duringDrain = load.seen.filter((s) => s.sentAt >= after[firstNotReady]!.sentAt);
    expect(duringDrain.length).toBeGreaterThanOrEqual(CLIENTS);
    expect(duringDrain.filter((s) => s.status !== 200 || s.connection !== 'close')).toEqual([]);
  }, 90_000);

  it('without a drain window, keeps sending clients on their keep-alive sockets unharmed', async () => {
    const { port, proc } = await startServer({ SHUTDOWN_DRAIN_MS: '0' });
    const load = keepAliveLoad(port, '/health', {
      clients: CLIENTS,
      maxRequests: 5000,
      stop: () => false,
    });
    await warmedUp(load, 5);
    expect(load.seen.every((s) => s.status === 200 && s.connection === 'keep-alive')).toBe(true);
    const signalledAt = Date.now();
    proc.child.kill('SIGTERM');
    // The clients go on until the server no longer takes connections.
    await load.done;
    const exit = await exitOf(proc);

    expect(load.failures).toEqual([]);
    expect(load.refused).toBe(CLIENTS);
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
    // Every request sent after the signal on an open connection was answered in full, and
    // each client's last answer told it to close that connection (it then found no listener).
    expect(load.seen.filter((s) => s.sentAt > signalledAt && s.status !== 200)).toEqual([]);
    const lastAnswers = Array.from({ length: CLIENTS }, (_, client) =>
      load.seen.findLast((s) => s.client === client),
    );
    expect(lastAnswers.map((s) => s?.connection)).toEqual(lastAnswers.map(() => 'close'));
  }, 90_000);
});
