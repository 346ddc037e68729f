import { describe, expect, it } from '@jest/globals';
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { fastifyTrustProxy } from './trust-proxy.js';

/** The client address Fastify computes for a request from 127.0.0.1 with this X-Forwarded-For. */
async function clientIpWith(trustProxy: boolean | number | string, forwardedFor: string) {
  const app = Fastify({ trustProxy: fastifyTrustProxy(trustProxy) });
  app.get('/', (request) => ({ ip: request.ip }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const { port } = app.server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      headers: { 'x-forwarded-for': forwardedFor },
    });
    return ((await res.json()) as { ip: string }).ip;
  } finally {
    await app.close();
  }
}

describe('TRUST_PROXY on Fastify, as Express read it', () => {
  it('false ignores X-Forwarded-For; true takes its leftmost address', async () => {
    expect(await clientIpWith(false, '203.0.113.1, 198.51.100.2')).toBe('127.0.0.1');
    expect(await clientIpWith(true, '203.0.113.1, 198.51.100.2')).toBe('203.0.113.1');
  });

  it('a hop count trusts that many proxies from the socket (Fastify alone would trust none)', async () => {
    expect(await clientIpWith(1, '203.0.113.1, 198.51.100.2')).toBe('198.51.100.2');
    expect(await clientIpWith(2, '203.0.113.1, 198.51.100.2')).toBe('203.0.113.1');
  });

  it('an address list trusts only the proxies it names', async () => {
    expect(await clientIpWith('loopback', '203.0.113.1, 198.51.100.2')).toBe('198.51.100.2');
    expect(await clientIpWith('10.0.0.0/8', '203.0.113.1')).toBe('127.0.0.1');
  });
});
