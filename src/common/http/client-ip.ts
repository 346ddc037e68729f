/** What clientIp needs of a request (Fastify's, the API's and the admin panel's). */
export interface RequestWithIp {
  ip?: string;
  socket: { remoteAddress?: string };
}

/**
 * The client address of a request as the HTTP framework computes it (X-Forwarded-For only when
 * TRUST_PROXY allows), for the audit log, rate limiting, sessions and Stripe calls.
 */
export function clientIp(request: RequestWithIp): string | null {
  const ip = request.ip ?? request.socket.remoteAddress ?? null;
  // IPv4-mapped IPv6 (::ffff:1.2.3.4) is stored as plain IPv4; activity_logs.ip_address is varchar(45).
  return ip?.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1').slice(0, 45) ?? null;
}
