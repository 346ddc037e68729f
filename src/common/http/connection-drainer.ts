import {
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';

/**
 * During shutdown, closes keep-alive connections as soon as their in-flight request finished.
 * `server.close()` only drops the connections idle at that moment; a connection whose request
 * completes later would otherwise hold shutdown open until its keep-alive timeout.
 */
@Injectable()
export class ConnectionDrainer implements BeforeApplicationShutdown, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  beforeApplicationShutdown(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server || typeof server.closeIdleConnections !== 'function') return;
    this.timer = setInterval(() => server.closeIdleConnections(), 50);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
