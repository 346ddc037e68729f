import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

/** RFC 1035 4.1.1 RCODEs the server answers with. */
export const RCODE = {
  noError: 0,
  formErr: 1,
  servFail: 2,
  nxDomain: 3,
  notImp: 4,
  refused: 5,
} as const;
/** RFC 1035 3.2.2 / RFC 6891. */
const TYPE_TXT = 16;
const TYPE_OPT = 41;
const CLASS_IN = 1;
const HEADER_LENGTH = 12;
/** The UDP payload a client without EDNS accepts (RFC 1035 4.2.1). */
const CLASSIC_UDP_LIMIT = 512;

/**
 * How the server treats a query: `answer` from the records; `servfail` answers SERVFAIL;
 * `drop` never answers (a dead server, for timeouts).
 */
export type DnsMode = 'answer' | 'servfail' | 'drop';

/** A query as the server parsed it. */
export interface DnsQuestion {
  id: number;
  opcode: number;
  recursionDesired: boolean;
  /** The name as sent (case kept; DNS 0x20 clients vary it), without the trailing dot. */
  name: string;
  type: number;
  class: number;
  /** The UDP payload size the client advertised in an EDNS OPT record, if any. */
  ednsUdpSize: number | undefined;
}

export class DnsFormatError extends Error {}

/** Reads a name (RFC 1035 3.1) at `offset`; compression pointers are refused (a question has none). */
function readName(message: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let at = offset;
  for (;;) {
    if (at >= message.length) throw new DnsFormatError('name runs past the message');
    const length = message[at]!;
    at += 1;
    if (length === 0) break;
    if (length > 63) throw new DnsFormatError('compressed or reserved label type in a question');
    if (at + length > message.length) throw new DnsFormatError('label runs past the message');
    labels.push(message.toString('latin1', at, at + length));
    at += length;
  }
  const name = labels.join('.');
  if (name.length > 253) throw new DnsFormatError('name longer than 255 octets');
  return { name, next: at };
}

/**
 * Parses a query message (RFC 1035 4.1): the header, exactly one question, and, in the
 * additional section, an EDNS OPT record (RFC 6891 6.1.2) if the client sent one. Throws
 * DnsFormatError for anything else that is malformed.
 */
export function parseQuery(message: Buffer): DnsQuestion {
  if (message.length < HEADER_LENGTH) throw new DnsFormatError('shorter than a header');
  const id = message.readUInt16BE(0);
  const flags = message.readUInt16BE(2);
  if ((flags & 0x8000) !== 0) throw new DnsFormatError('a response, not a query');
  const qdCount = message.readUInt16BE(4);
  const anCount = message.readUInt16BE(6);
  const nsCount = message.readUInt16BE(8);
  const arCount = message.readUInt16BE(10);
  if (qdCount !== 1 || anCount !== 0 || nsCount !== 0) {
    throw new DnsFormatError('a query has one question and no answer or authority records');
  }
  const { name, next } = readName(message, HEADER_LENGTH);
  if (next + 4 > message.length) throw new DnsFormatError('question without type and class');
  const type = message.readUInt16BE(next);
  const qclass = message.readUInt16BE(next + 2);
  let at = next + 4;
  let ednsUdpSize: number | undefined;
  for (let i = 0; i < arCount; i++) {
    // An additional record: NAME TYPE CLASS TTL RDLENGTH RDATA. Only OPT (root name) matters.
    const owner = readName(message, at);
    if (owner.next + 10 > message.length) throw new DnsFormatError('truncated additional record');
    const rrType = message.readUInt16BE(owner.next);
    const rrClass = message.readUInt16BE(owner.next + 2);
    const rdLength = message.readUInt16BE(owner.next + 8);
    at = owner.next + 10 + rdLength;
    if (at > message.length) throw new DnsFormatError('record data runs past the message');
    if (rrType === TYPE_OPT && owner.name === '') ednsUdpSize = Math.max(rrClass, 512);
  }
  if (at !== message.length) throw new DnsFormatError('trailing bytes after the records');
  return {
    id,
    opcode: (flags >> 11) & 0x0f,
    recursionDesired: (flags & 0x0100) !== 0,
    name,
    type,
    class: qclass,
    ednsUdpSize,
  };
}

function encodeName(name: string): Buffer {
  const parts = name === '' ? [] : name.split('.');
  return Buffer.concat([
    ...parts.map((label) =>
      Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'latin1')]),
    ),
    Buffer.from([0]),
  ]);
}

/** RDATA of one TXT record (RFC 1035 3.3.14): each string as <length octet><bytes>. */
export function encodeTxtRdata(strings: readonly string[]): Buffer {
  return Buffer.concat(
    strings.map((text) => {
      const bytes = Buffer.from(text, 'utf8');
      if (bytes.length > 255) throw new RangeError('a TXT character-string is at most 255 bytes');
      return Buffer.concat([Buffer.from([bytes.length]), bytes]);
    }),
  );
}

/**
 * A response to `query` (RFC 1035 4.1): the question echoed as sent, then one TXT answer per
 * record, named by a pointer to the question's name (offset 12). Set TC and drops the answers
 * when they would not fit the client's UDP size.
 */
export function encodeResponse(
  query: DnsQuestion,
  rcode: number,
  records: readonly (readonly string[])[] = [],
): Buffer {
  const question = Buffer.concat([
    encodeName(query.name),
    Buffer.from([query.type >> 8, query.type & 0xff, query.class >> 8, query.class & 0xff]),
  ]);
  const answers = records.map((strings) => {
    const rdata = encodeTxtRdata(strings);
    const fixed = Buffer.alloc(12);
    fixed.writeUInt16BE(0xc000 | HEADER_LENGTH, 0);
    fixed.writeUInt16BE(TYPE_TXT, 2);
    fixed.writeUInt16BE(CLASS_IN, 4);
    fixed.writeUInt32BE(0, 6); // TTL 0: nothing may cache a test's answer.
    fixed.writeUInt16BE(rdata.length, 10);
    return Buffer.concat([fixed, rdata]);
  });
  const limit = query.ednsUdpSize ?? CLASSIC_UDP_LIMIT;
  const size = HEADER_LENGTH + question.length + answers.reduce((n, a) => n + a.length, 0);
  const truncated = size > limit;
  const header = Buffer.alloc(HEADER_LENGTH);
  header.writeUInt16BE(query.id, 0);
  // QR=1, the query's opcode, AA=1, TC, the query's RD, RA=0, RCODE.
  header.writeUInt16BE(
    0x8000 |
      (query.opcode << 11) |
      0x0400 |
      (truncated ? 0x0200 : 0) |
      (query.recursionDesired ? 0x0100 : 0) |
      (rcode & 0x0f),
    2,
  );
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(truncated ? 0 : answers.length, 6);
  return Buffer.concat([header, question, ...(truncated ? [] : answers)]);
}

/**
 * Splits an ASCII value into the 255-byte character-strings one TXT record holds (RFC 7208
 * 3.3); other text must be given as its strings.
 */
function chunks(value: string): string[] {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new RangeError('give non-ASCII TXT data as strings');
  const out: string[] = [];
  for (let at = 0; at < value.length || out.length === 0; at += 255) {
    out.push(value.slice(at, at + 255));
  }
  return out;
}

export interface TestDnsServer {
  /** `127.0.0.1:<port>`: pass as DNS_SERVERS to createTestApp({ env }). */
  readonly address: string;
  /**
   * Sets the TXT records of `name` (case-insensitive, trailing dot optional): each record a
   * string (split into 255-byte strings) or the exact strings it consists of. No records: the
   * name exists without TXT records (NOERROR, no answer).
   */
  setTxt(name: string, ...records: (string | readonly string[])[]): void;
  /** Forgets `name`: queries for it get NXDOMAIN again. */
  remove(name: string): void;
  /** How every query is treated from now on (default `answer`). */
  mode: DnsMode;
  /** Milliseconds to wait before each answer (default 0): a slow server, to widen races. */
  delayMs: number;
  /** Every query received, oldest first (malformed ones too, as `undefined`). */
  readonly queries: (DnsQuestion | undefined)[];
  close(): Promise<void>;
}

const key = (name: string): string => name.replace(/\.$/, '').toLowerCase();

/**
 * An authoritative DNS server on a free loopback UDP port that answers TXT queries from
 * records the test controls: NXDOMAIN for names it does not know, NOERROR without answers for
 * other types of a known name, FORMERR for malformed queries, NOTIMP for opcodes other than
 * QUERY, REFUSED for classes other than IN. `mode` turns it into a failing (`servfail`) or dead (`drop`) server. UDP only: a
 * response too big for the client's UDP size comes back truncated (TC), and nothing listens
 * on TCP for the retry, so keep test records small.
 */
export async function startDnsServer(): Promise<TestDnsServer> {
  const zone = new Map<string, (readonly string[])[]>();
  const queries: (DnsQuestion | undefined)[] = [];
  const socket: Socket = createSocket('udp4');

  const server = {
    address: '',
    mode: 'answer' as DnsMode,
    delayMs: 0,
    queries,
    setTxt(name: string, ...records: (string | readonly string[])[]): void {
      zone.set(
        key(name),
        records.map((record) => (typeof record === 'string' ? chunks(record) : [...record])),
      );
    },
    remove(name: string): void {
      zone.delete(key(name));
    },
    close(): Promise<void> {
      return new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };

  const reply = (message: Buffer, to: RemoteInfo): void => {
    const send = (): void => socket.send(message, to.port, to.address);
    if (server.delayMs > 0) setTimeout(send, server.delayMs);
    else send();
  };

  socket.on('message', (message, from) => {
    let query: DnsQuestion;
    try {
      query = parseQuery(message);
    } catch {
      queries.push(undefined);
      // FORMERR needs the id; a message without a whole header gets no answer at all.
      if (message.length >= HEADER_LENGTH && server.mode !== 'drop') {
        const header = Buffer.alloc(HEADER_LENGTH);
        header.writeUInt16BE(message.readUInt16BE(0), 0);
        header.writeUInt16BE(0x8000 | RCODE.formErr, 2);
        reply(header, from);
      }
      return;
    }
    queries.push(query);
    if (server.mode === 'drop') return;
    if (server.mode === 'servfail') return reply(encodeResponse(query, RCODE.servFail), from);
    if (query.opcode !== 0) return reply(encodeResponse(query, RCODE.notImp), from);
    if (query.class !== CLASS_IN) return reply(encodeResponse(query, RCODE.refused), from);
    const records = zone.get(key(query.name));
    if (records === undefined) return reply(encodeResponse(query, RCODE.nxDomain), from);
    reply(encodeResponse(query, RCODE.noError, query.type === TYPE_TXT ? records : []), from);
  });

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  server.address = `127.0.0.1:${socket.address().port}`;
  return server;
}
