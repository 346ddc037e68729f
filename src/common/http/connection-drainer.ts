import {
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

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

/**
 * Lets keep-alive clients see a clean end during shutdown (SIGTERM, `app.close()`).
 *
 * Once shutdown begins, every response not yet started is sent with `Connection: close`, so
 * the client does not put the connection back in its pool and Node closes it right after the
 * response; a connection with nothing in flight is closed at once with a FIN. Without this,
 * a client reuses a connection the server is about to drop and sees its next request reset.
 * `server.close()` (run after this, by Nest) then only waits for the in-flight requests.
 */
@Injectable()
export class ConnectionDrainer
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private draining = false;
  private server: Server | undefined;
  /** Open connections, with the responses still unfinished on each. */
  private readonly connections = new Map<Socket, Set<ServerResponse>>();

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server || typeof server.prependListener !== 'function') return;
    this.server = server;
    server.on('connection', this.onConnection);
    // Before Fastify handles the request, so a response it sends at once is covered too.
    server.prependListener('request', this.onRequest);
  }

  beforeApplicationShutdown(): void {
    this.draining = true;
    for (const [socket, responses] of this.connections) {
      if (responses.size === 0) closeGracefully(socket);
      for (const response of responses) closeAfter(response);
    }
  }

  onApplicationShutdown(): void {
    this.server?.off('connection', this.onConnection);
    this.server?.off('request', this.onRequest);
  }

  private readonly onConnection = (socket: Socket): void => {
    this.connections.set(socket, new Set());
    socket.once('close', () => this.connections.delete(socket));
  };

  private readonly onRequest = (_request: IncomingMessage, response: ServerResponse): void => {
    const socket = response.socket;
    const responses = socket ? this.connections.get(socket) : undefined;
    if (!socket || !responses) return;
    responses.add(response);
    if (this.draining) closeAfter(response);
    response.once('close', () => {
      responses.delete(response);
      // A response that had already started when shutdown began went out as keep-alive.
      if (this.draining && responses.size === 0) closeGracefully(socket);
    });
  };
}

/** Node closes the connection after a response that says `Connection: close`. */
function closeAfter(response: ServerResponse): void {
  if (!response.headersSent) response.setHeader('Connection', 'close');
}
