import { isIP } from 'node:net';
import { ConfigValidationError } from './config-error.js';

/** The DNS lookups of domain verification (API.md v1.2 "Verified domains"). */
export interface DnsConfig {
  /**
   * DNS_SERVERS: comma-separated `host:port` (IPv4 `203.0.113.53:53`, IPv6 `[2001:db8::53]:53`;
   * the port defaults to 53), in the form `dns.Resolver#setServers` takes. They replace the
   * system's resolvers (/etc/resolv.conf) for these lookups; tests point it at a DNS server on
   * loopback. Unset (undefined): the system's resolvers.
   */
  readonly servers: readonly string[] | undefined;
  /**
   * DNS_TIMEOUT_MS (default 2000, 100 to 30 000): how long each server is given per attempt.
   * Each lookup makes two attempts and gives up after at most three timeouts in all, so a dead
   * server answers the verify request within seconds, not the resolver's default minute.
   */
  readonly timeoutMs: number;
}

const ENTRY = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/;

function server(entry: string): string {
  const match = ENTRY.exec(entry);
  const host = match?.[1] ?? match?.[2];
  const port = match?.[3] === undefined ? 53 : Number(match[3]);
  const family = host === undefined ? 0 : isIP(host);
  // A bracketed host must be IPv6, a bare one IPv4 (a bare IPv6 address has colons).
  if (
    match === null ||
    family === 0 ||
    (match[1] !== undefined) !== (family === 6) ||
    port < 1 ||
    port > 65535
  ) {
    throw new ConfigValidationError(
      'DNS_SERVERS',
      `must be comma-separated IP addresses with an optional port, like 127.0.0.1:5353 or [::1]:53 (got "${entry}")`,
    );
  }
  return family === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

export function loadDnsConfig(env: Readonly<Record<string, string | undefined>>): DnsConfig {
  const raw = env.DNS_SERVERS?.trim();
  const servers =
    raw === undefined || raw === ''
      ? undefined
      : Object.freeze(
          raw
            .split(',')
            .map((entry) => entry.trim())
            .filter((entry) => entry !== '')
            .map(server),
        );
  const timeout = env.DNS_TIMEOUT_MS?.trim();
  let timeoutMs = 2000;
  if (timeout !== undefined && timeout !== '') {
    if (!/^\d+$/.test(timeout) || Number(timeout) < 100 || Number(timeout) > 30_000) {
      throw new ConfigValidationError(
        'DNS_TIMEOUT_MS',
        `must be an integer from 100 to 30000 (got "${timeout}")`,
      );
    }
    timeoutMs = Number(timeout);
  }
  return Object.freeze({
    servers: servers !== undefined && servers.length > 0 ? servers : undefined,
    timeoutMs,
  });
}
