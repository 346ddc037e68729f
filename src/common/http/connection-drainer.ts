import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * How long a keep-alive connection must have been idle before a stopping server closes it. A
 * client that is still using its connection sends its next request well within this; that
 * request gets an answer with `Connection: close` instead of a FIN racing it (a reset).
 */
export const IDLE_GRACE_MS = 1000;

/** The longest a stopping server waits for its connections to end after the drain window. */
export const CONNECTIONS_TIMEOUT_MS = 10_000;

/** Ends our side (FIN once the written data is flushed), then frees the socket. */
function closeGracefully(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.writableFinished) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end();
}

/** Node closes the connection after a response that says `Connection: close`. */
function closeAfter(response: ServerResponse): void {
  if (!response.headersSent) response.setHeader('Connection', 'close');
}

/**
 * Stops accepting connections, leaving the open ones alone. `http.Server#close` (Node 19+)
 * also destroys every connection it sees as idle, which resets a keep-alive client whose next
 * request is already on its way: the listening socket is closed with net.Server's own close.
 */
function stopListening(server: Server): void {
  if (server.listening) NetServer.prototype.close.call(server);
}

interface Connection {
  /** Responses not yet finished on this connection. */
  readonly responses: Set<ServerResponse>;
  /** When the connection last had nothing in flight (ms since the epoch). */
  idleSince: number;
  idleTimer?: NodeJS.Timeout;
}

/**
 * Stops the HTTP server without resetting anyone (API.md "Production topologies"): SIGTERM,
 * or `app.close()`.
 *
 * 1. `beginDrain()` (at once on SIGTERM): `draining` turns true, so /health/ready answers 503
 *    and a balancer takes the instance out; every response not yet started goes out with
 *    `Connection: close`, so no client keeps a connection to this instance, and Node closes
 *    each connection after such a response. New connections are still accepted.
 * 2. `drain(windowMs)`: after the drain window (SHUTDOWN_DRAIN_MS) the listening socket
 *    closes; a connection is closed (FIN) once it has been idle for IDLE_GRACE_MS, and the
 *    requests in flight finish (their connections close after them). It resolves when every
 *    connection has ended (at most CONNECTIONS_TIMEOUT_MS later); Nest's `app.close()` then
 *    finds nothing left to cut.
 *
 * `app.close()` without a prior `drain()` (the tests) drains with no window, before the server
 * closes.
 */
@Injectable()
export class ConnectionDrainer
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('Shutdown');
  private phase: 'serving' | 'draining' | 'closing' = 'serving';
  private drained: Promise<void> | undefined;
  private server: Server | undefined;
  private readonly connections = new Map<Socket, Connection>();
  private onAllClosed: (() => void) | undefined;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /** True from the start of shutdown on: the instance is not ready for new work. */
  get draining(): boolean {
    return this.phase !== 'serving';
  }

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server || typeof server.prependListener !== 'function') return;
    this.server = server;
    server.on('connection', this.onConnection);
    // Before Fastify handles the request, so a response it sends at once is covered too.
    server.prependListener('request', this.onRequest);
  }

  /** Not ready from now on, and every response not yet started closes its connection. */
  beginDrain(): void {
    if (this.phase !== 'serving') return;
    this.phase = 'draining';
    for (const { responses } of this.connections.values()) {
      for (const response of responses) closeAfter(response);
    }
  }

  /** The whole stop (see the class): resolves when every connection has ended. */
  drain(windowMs = 0): Promise<void> {
    this.beginDrain();
    return (this.drained ??= this.closeAfterWindow(windowMs));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.drain();
  }

  onApplicationShutdown(): void {
    this.server?.off('connection', this.onConnection);
    this.server?.off('request', this.onRequest);
  }

  private async closeAfterWindow(windowMs: number): Promise<void> {
    if (windowMs > 0) await sleep(windowMs);
    this.phase = 'closing';
    if (this.server) stopListening(this.server);
    for (const [socket, connection] of this.connections) this.closeWhenIdle(socket, connection);
    if (this.connections.size === 0) return;
    const allClosed = new Promise<void>((resolve) => (this.onAllClosed = resolve));
    const timeout = new AbortController();
    const timedOut = await Promise.race([
      allClosed.then(() => false),
      sleep(CONNECTIONS_TIMEOUT_MS, true, { signal: timeout.signal }).catch(() => false),
    ]);
    timeout.abort();
    if (timedOut) {
      this.logger.warn(
        `${this.connections.size} connection(s) still open ${CONNECTIONS_TIMEOUT_MS} ms after the drain: closing the server anyway`,
      );
    }
  }

  /** While closing: a connection with nothing in flight ends after IDLE_GRACE_MS of that. */
  private closeWhenIdle(socket: Socket, connection: Connection): void {
    if (this.phase !== 'closing' || connection.responses.size > 0 || socket.destroyed) return;
    clearTimeout(connection.idleTimer);
    const wait = Math.max(0, connection.idleSince + IDLE_GRACE_MS - Date.now());
    connection.idleTimer = setTimeout(() => {
      if (connection.responses.size === 0) closeGracefully(socket);
    }, wait);
  }

  private readonly onConnection = (socket: Socket): void => {
    const connection: Connection = { responses: new Set(), idleSince: Date.now() };
    this.connections.set(socket, connection);
    socket.once('close', () => {
      clearTimeout(connection.idleTimer);
      this.connections.delete(socket);
      if (this.connections.size === 0) this.onAllClosed?.();
    });
    // Accepted just before the listening socket closed.
    this.closeWhenIdle(socket, connection);
  };

  private readonly onRequest = (_request: IncomingMessage, response: ServerResponse): void => {
    const socket = response.socket;
    const connection = socket ? this.connections.get(socket) : undefined;
    if (!socket || !connection) return;
    clearTimeout(connection.idleTimer);
    connection.responses.add(response);
    if (this.draining) closeAfter(response);
    response.once('close', () => {
      connection.responses.delete(response);
      if (connection.responses.size > 0) return;
      connection.idleSince = Date.now();
      // A response that had started before the drain went out as keep-alive: the client may
      // send another request on this connection, which gets `Connection: close`.
      this.closeWhenIdle(socket, connection);
    });
  };
}
