import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * IPv6 prefixes (/96) whose last 32 bits are an IPv4 address that the IPv6 address stands
 * for: IPv4-compatible `::/96` (RFC 4291, deprecated; `[::127.0.0.1]` parses as `::7f00:1`,
 * which ipaddr.js calls plain unicast), IPv4-mapped `::ffff:0:0/96`, IPv4-translated
 * `::ffff:0:0:0/96` (RFC 6145) and the NAT64 well-known prefix `64:ff9b::/96` (RFC 6052).
 */
const IPV4_CARRYING_PREFIXES = ['::', '::ffff:0:0', '::ffff:0:0:0', '64:ff9b::'].map(
  (prefix) => [ipaddr.IPv6.parse(prefix), 96] as [ipaddr.IPv6, number],
);

/** The IPv4 address an IPv6 address stands for (see IPV4_CARRYING_PREFIXES), if any. */
function carriedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  if (!IPV4_CARRYING_PREFIXES.some((range) => address.match(range))) return undefined;
  const bytes = address.toByteArray().slice(12);
  return new ipaddr.IPv4(bytes);
}

/**
 * SSRF protection for webhook URLs. Only plain public unicast addresses are allowed:
 * loopback, private (RFC 1918), link-local (cloud metadata at 169.254.169.254), unique-local,
 * CGNAT, unspecified, multicast, broadcast and the other special ranges ipaddr.js knows are
 * refused. An IPv6 address carrying an IPv4 one (`::ffff:127.0.0.1`, `::127.0.0.1`,
 * `64:ff9b::127.0.0.1`, ...) is judged as that IPv4 address, so `::` and `::1` (0.0.0.0/8)
 * stay refused too. Checked when an endpoint is saved and again on every delivery, on the
 * very addresses the connection uses (`guardedLookup`), so a host name re-pointed after
 * validation (DNS rebinding) is refused too.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.parse(address);
  const judged = parsed.kind() === 'ipv6' ? (carriedIPv4(parsed as ipaddr.IPv6) ?? parsed) : parsed;
  return judged.range() === 'unicast';
}

export type TargetProblem = 'invalid_url' | 'forbidden_target' | 'unresolvable_host';

/** The host of a URL as an address or name (`[::1]` → `::1`). */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

async function resolveAll(host: string): Promise<string[] | undefined> {
  try {
    const found = await dns.promises.lookup(host, { all: true, verbatim: true });
    return found.map((entry) => entry.address);
  } catch {
    return undefined;
  }
}

/**
 * Why `raw` may not be a webhook URL, or undefined when it may. `allowPrivate`
 * (WEBHOOKS_ALLOW_PRIVATE) also allows `http://` and skips the address checks.
 */
export async function checkWebhookUrl(
  raw: string,
  allowPrivate: boolean,
): Promise<TargetProblem | undefined> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'invalid_url';
  }
  const schemes = allowPrivate ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol) || url.username !== '' || url.password !== '') {
    return 'invalid_url';
  }
  if (allowPrivate) return undefined;
  const host = hostOf(url);
  if (ipaddr.isValid(host)) return isPublicAddress(host) ? undefined : 'forbidden_target';
  const addresses = await resolveAll(host);
  if (addresses === undefined || addresses.length === 0) return 'unresolvable_host';
  return addresses.every(isPublicAddress) ? undefined : 'forbidden_target';
}

export class ForbiddenTargetError extends Error {
  readonly code = 'EFORBIDDENTARGET';
}

/**
 * A `lookup` for http(s).request that resolves like the default one and refuses the
 * connection when any address is not public. Node calls it with `all: true` when it races
 * addresses (autoSelectFamily), else for one address.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) {
      callback(error, '', 4);
      return;
    }
    const forbidden = addresses.find((entry) => !isPublicAddress(entry.address));
    const first = addresses[0];
    if (forbidden !== undefined || first === undefined) {
      const reason = forbidden
        ? `${hostname} resolves to a forbidden address (${forbidden.address})`
        : `${hostname} does not resolve`;
      callback(new ForbiddenTargetError(reason), '', 4);
      return;
    }
    if (options.all) {
      (callback as unknown as (err: null, all: dns.LookupAddress[]) => void)(null, addresses);
    } else {
      callback(null, first.address, first.family);
    }
  });
};

/** The connection check for an IP-literal URL (Node does not call `lookup` for those). */
export function literalTargetProblem(url: URL): string | undefined {
  const host = hostOf(url);
  if (ipaddr.isValid(host) && !isPublicAddress(host)) return `${host} is a forbidden address`;
  return undefined;
}
