import { Injectable } from '@nestjs/common';
import { Resolver } from 'node:dns/promises';
import { AppConfig } from '../../config/app-config.js';

/** Attempts per server (c-ares retries a server that did not answer in `timeoutMs`). */
const TRIES = 2;

/**
 * What a TXT lookup found: the records (each one's character-strings joined, as RFC 7208 3.3
 * reads a record split into 255-byte chunks); `none` when the name does not exist or has no
 * TXT record; `failed` when no server gave an answer (timeout, SERVFAIL, refused).
 */
export type TxtAnswer =
  { kind: 'records'; records: string[] } | { kind: 'none' } | { kind: 'failed'; code: string };

/** node:dns error codes that are an answer: the name or its TXT records do not exist. */
const NO_RECORDS = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * TXT lookups for domain verification, with `node:dns`'s `Resolver` (c-ares: straight DNS
 * queries, not getaddrinfo), on DNS_SERVERS when set, else the system's resolvers. Each
 * server gets DNS_TIMEOUT_MS per attempt and two attempts, and the whole lookup is cancelled
 * after three timeouts, so a dead server costs the request seconds, not a minute.
 */
@Injectable()
export class TxtLookup {
  constructor(private readonly config: AppConfig) {}

  async lookup(name: string): Promise<TxtAnswer> {
    const { servers, timeoutMs } = this.config.dns;
    // A resolver per lookup: cheap, and nothing (a cancel, a server list) leaks between requests.
    const resolver = new Resolver({ timeout: timeoutMs, tries: TRIES });
    if (servers !== undefined) resolver.setServers([...servers]);
    const deadline = setTimeout(() => resolver.cancel(), timeoutMs * (TRIES + 1));
    try {
      const records = await resolver.resolveTxt(name);
      return { kind: 'records', records: records.map((chunks) => chunks.join('')) };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && NO_RECORDS.has(code)) return { kind: 'none' };
      return { kind: 'failed', code: typeof code === 'string' ? code : 'EUNKNOWN' };
    } finally {
      clearTimeout(deadline);
    }
  }
}
