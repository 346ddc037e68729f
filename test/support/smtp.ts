import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface CapturedMail {
  /** Envelope sender and recipients (lower-cased). */
  from: string;
  to: string[];
  subject: string;
  /** The decoded text/plain part ('' when absent). */
  text: string;
  /** The decoded text/html part, when present. */
  html: string | undefined;
  headers: Map<string, string>;
  raw: string;
}

export interface SmtpCapture {
  /** `smtp://127.0.0.1:<port>`: pass as SMTP_URL to createTestApp({ env }). */
  url: string;
  /** Every message received so far, oldest first. */
  messages: CapturedMail[];
  /**
   * Resolves with the first message to `to` (already received or arriving within timeoutMs),
   * or the first whose subject also matches `subject` (a substring or a pattern).
   */
  waitForMail(
    to: string,
    options?: number | { timeoutMs?: number; subject?: string | RegExp },
  ): Promise<CapturedMail>;
  /**
   * While refusing, every message is answered with a temporary failure (421/451, as a mail
   * server under maintenance does) and not kept; `refused` counts those attempts.
   */
  refuse(on: boolean): void;
  readonly refused: number;
  /**
   * While holding, a message's data is read but not answered (a slow mail server taking its
   * time): it is kept only once answered, which `hold(false)` does for every held message whose
   * client is still connected. A message whose client went away first was never accepted
   * (no 250), so the sender still owns it (RFC 5321 4.1.1.4, RFC 1047): it is dropped.
   * `held` counts the messages waiting for an answer now.
   */
  hold(on: boolean): void;
  readonly held: number;
  close(): Promise<void>;
}

/**
 * A real SMTP server on a free local port that keeps every message in memory, so tests
 * prove a mail was actually delivered over SMTP (and read its links).
 */
export async function startSmtpCapture(): Promise<SmtpCapture> {
  const messages: CapturedMail[] = [];
  const waiters: {
    matches: (mail: CapturedMail) => boolean;
    resolve: (mail: CapturedMail) => void;
  }[] = [];

  let refusing = false;
  let refused = 0;
  let holding = false;
  /** Messages read while holding, not answered yet, by SMTP session id. */
  const pending = new Map<string, { mail: CapturedMail; answer: () => void }>();
  const accept = (mail: CapturedMail): void => {
    messages.push(mail);
    for (const waiter of [...waiters]) {
      if (waiter.matches(mail)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(mail);
      }
    }
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onMailFrom(_address, _session, callback) {
      if (!refusing) return callback();
      refused += 1;
      const error = new Error('Service temporarily unavailable, try again later') as Error & {
        responseCode: number;
      };
      error.responseCode = 451;
      callback(error);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const mail = parseMail(
          raw,
          session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
        );
        if (holding) {
          pending.set(session.id, {
            mail,
            answer: () => {
              accept(mail);
              callback();
            },
          });
          return;
        }
        accept(mail);
        callback();
      });
    },
    onClose(session) {
      // The client left before its held message was answered: not accepted, not kept.
      pending.delete(session.id);
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    waitForMail(to, options) {
      const { timeoutMs = 5000, subject } =
        typeof options === 'number' ? { timeoutMs: options } : (options ?? {});
      const address = to.toLowerCase();
      const matches = (m: CapturedMail): boolean =>
        m.to.includes(address) &&
        (subject === undefined ||
          (typeof subject === 'string' ? m.subject.includes(subject) : subject.test(m.subject)));
      const existing = messages.find(matches);
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve, reject) => {
        const waiter = {
          matches,
          resolve: (mail: CapturedMail) => {
            clearTimeout(timer);
            resolve(mail);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`No mail to ${to} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    refuse(on) {
      refusing = on;
    },
    get refused() {
      return refused;
    },
    hold(on) {
      holding = on;
      if (on) return;
      const answers = [...pending.values()];
      pending.clear();
      for (const { answer } of answers) answer();
    },
    get held() {
      return pending.size;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function parseHeaders(block: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of block.replace(/\r\n[ \t]+/g, ' ').split(/\r\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return headers;
}

function decodeBody(body: string, encoding: string | undefined): string {
  switch (encoding?.toLowerCase() ?? '7bit') {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable': {
      const soft = body.replace(/=\r?\n/g, '');
      const bytes: number[] = [];
      for (let i = 0; i < soft.length; i++) {
        const hex = soft.slice(i + 1, i + 3);
        if (soft[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
          bytes.push(parseInt(hex, 16));
          i += 2;
        } else {
          bytes.push(...Buffer.from(soft[i] ?? '', 'utf8'));
        }
      }
      return Buffer.from(bytes).toString('utf8');
    }
    default:
      return body;
  }
}

/**
 * RFC 2047 encoded words (=?utf-8?B?...?= / =?utf-8?Q?...?=) in headers. Whitespace between
 * two adjacent encoded words (a long subject folded over lines) is not part of the text.
 */
function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, _charset, kind: string, text: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeBody(text.replace(/_/g, ' '), 'quoted-printable'),
    );
}

interface Part {
  headers: Map<string, string>;
  body: string;
}

function splitPart(raw: string): Part {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { headers: parseHeaders(raw), body: '' };
  return { headers: parseHeaders(raw.slice(0, end)), body: raw.slice(end + 4) };
}

function leafParts(part: Part): Part[] {
  const type = part.headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (!type.toLowerCase().startsWith('multipart/') || boundary === undefined) return [part];
  return part.body
    .split(`--${boundary}`)
    .slice(1)
    .filter((chunk) => !chunk.startsWith('--'))
    .flatMap((chunk) => leafParts(splitPart(chunk.replace(/^\r\n/, ''))));
}

function parseMail(raw: string, from: string, to: string[]): CapturedMail {
  const root = splitPart(raw);
  const leaves = leafParts(root);
  const decoded = (kind: string): string | undefined => {
    const leaf = leaves.find((p) =>
      (p.headers.get('content-type') ?? 'text/plain').toLowerCase().startsWith(kind),
    );
    return leaf && decodeBody(leaf.body, leaf.headers.get('content-transfer-encoding'));
  };
  return {
    from: from.toLowerCase(),
    to,
    subject: decodeWords(root.headers.get('subject') ?? ''),
    text: decoded('text/plain') ?? '',
    html: decoded('text/html'),
    headers: root.headers,
    raw,
  };
}
