import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * A local HTTP endpoint for outgoing webhooks. Answers each request with the next queued
 * status (`answer(...)`), else `defaultStatus`; records every request.
 */
export interface WebhookReceiver {
  url: (path?: string) => string;
  received: ReceivedWebhook[];
  /** Statuses for the next requests to `path`, in order. */
  answer(path: string, ...statuses: number[]): void;
  /** Requests to `path` are recorded but never answered (held open until `close`). */
  hold(path: string): void;
  /** Requests to `path` from now on are answered again (those held stay unanswered). */
  release(path: string): void;
  /** Requests to `path` are answered after `ms`. */
  delay(path: string, ms: number): void;
  /** Requests received on `path`. */
  on(path: string): ReceivedWebhook[];
  /** The most requests to `path` that were open (received, not yet answered) at once. */
  peakConcurrency(path: string): number;
  close(): Promise<void>;
}

export async function startWebhookReceiver(defaultStatus = 200): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const queued = new Map<string, number[]>();
  const held = new Set<string>();
  const delays = new Map<string, number>();
  const open = new Map<string, number>();
  const peaks = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    open.set(path, (open.get(path) ?? 0) + 1);
    peaks.set(path, Math.max(peaks.get(path) ?? 0, open.get(path) ?? 0));
    res.on('close', () => open.set(path, (open.get(path) ?? 1) - 1));
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string') headers[name] = value;
      }
      received.push({ path, headers, body: Buffer.concat(chunks).toString('utf8') });
      if (held.has(path)) return;
      const status = queued.get(path)?.shift() ?? defaultStatus;
      const reply = (): void => {
        res.writeHead(status, { 'content-type': 'text/plain' }).end(`answered ${status}`);
      };
      const ms = delays.get(path);
      if (ms === undefined) reply();
      else setTimeout(reply, ms);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path = '/') => `http://127.0.0.1:${port}${path}`,
    received,
    answer(path, ...statuses) {
      queued.set(path, [...(queued.get(path) ?? []), ...statuses]);
    },
    hold(path) {
      held.add(path);
    },
    release(path) {
      held.delete(path);
    },
    delay(path, ms) {
      delays.set(path, ms);
    },
    on: (path) => received.filter((r) => r.path === path),
    peakConcurrency: (path) => peaks.get(path) ?? 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls `probe` until it returns a value other than undefined/false, or fails after `ms`. */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
