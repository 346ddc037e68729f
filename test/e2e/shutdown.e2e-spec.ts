import { describe, expect, it } from '@jest/globals';
import { Controller, Get, Inject, Module } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { sql } from 'drizzle-orm';
import http from 'node:http';
import net, { type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Public } from '../../src/common/decorators/public.decorator.js';
import { DRIZZLE, type Database } from '../../src/database/database.tokens.js';
import { createTestApp } from '../support/app.js';

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
