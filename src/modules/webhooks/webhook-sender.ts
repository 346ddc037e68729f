import http from 'node:http';
import https from 'node:https';
import { guardedLookup, literalTargetProblem } from './webhook-target.js';

export const RESPONSE_EXCERPT_BYTES = 1024;

export interface AttemptResult {
  /** A 2xx answer. */
  ok: boolean;
  /** The HTTP status, when an answer came. */
  statusCode: number | null;
  /** Why the attempt failed (connection error, timeout, refused target, non-2xx). */
  error: string | null;
  /** At most the first 1 KB of the response body (never more is read or kept). */
  excerpt: string | null;
  /**
   * The SSRF protection refused the target (a forbidden address, also one a host name resolves
   * to now): no request was sent.
   */
  refused: boolean;
}

export interface SendOptions {
  timeoutMs: number;
  /** WEBHOOKS_ALLOW_PRIVATE: connect to any address. */
  allowPrivate: boolean;
}

/**
 * POSTs one webhook. Redirects are not followed (a 3xx is a failed attempt); the timeout
 * covers connecting, sending and reading the answer; only the first 1 KB of the response body
 * is read. Never throws: every outcome is an AttemptResult.
 */
export function postWebhook(
  rawUrl: string,
  headers: Record<string, string>,
  body: string,
  options: SendOptions,
): Promise<AttemptResult> {
  return new Promise((resolve) => {
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      resolve({ ok: false, statusCode: null, error: 'invalid URL', excerpt: null, refused: false });
      return;
    }
    const refused = options.allowPrivate ? undefined : literalTargetProblem(url);
    if (refused !== undefined) {
      resolve({
        ok: false,
        statusCode: null,
        error: `refused: ${refused}`,
        excerpt: null,
        refused: true,
      });
      return;
    }
    let settled = false;
    let refusedTarget = false;
    let statusCode: number | null = null;
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error: string | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const excerpt =
        size > 0
          ? Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8')
          : null;
      const ok = error === null && statusCode !== null && statusCode >= 200 && statusCode < 300;
      resolve({
        ok,
        statusCode,
        error: error ?? (ok ? null : `HTTP ${statusCode ?? 'no status'}`),
        excerpt,
        refused: refusedTarget,
      });
    };
    const client = url.protocol === 'https:' ? https : http;
    const request = client.request(
      url,
      {
        method: 'POST',
        agent: false,
        ...(options.allowPrivate ? {} : { lookup: guardedLookup }),
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'nest-saas-webhooks/1.0',
        },
      },
      (response) => {
        statusCode = response.statusCode ?? null;
        response.on('data', (chunk: Buffer) => {
          if (size < RESPONSE_EXCERPT_BYTES) chunks.push(chunk);
          size += chunk.length;
          if (size >= RESPONSE_EXCERPT_BYTES) {
            finish(null);
            response.destroy();
          }
        });
        response.on('end', () => finish(null));
        response.on('error', () => finish(null));
        response.on('close', () => finish(null));
      },
    );
    const timer = setTimeout(() => {
      finish(`timeout after ${options.timeoutMs} ms`);
      request.destroy();
    }, options.timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => {
      refusedTarget = error.code === 'EFORBIDDENTARGET';
      const message = refusedTarget
        ? `refused: ${error.message}`
        : `${error.code ?? 'error'}: ${error.message}`;
      finish(message.slice(0, 500));
    });
    request.end(body);
  });
}
