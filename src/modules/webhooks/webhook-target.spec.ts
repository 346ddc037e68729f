import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { postWebhook } from './webhook-sender.js';
import { checkWebhookUrl, isPublicAddress } from './webhook-target.js';

describe('webhook targets (SSRF)', () => {
  it.each([
    '127.0.0.1',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '255.255.255.255',
    '224.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd12:3456::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    'ff02::1',
  ])('%s is not a public address', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  // An IPv6 address that carries an IPv4 one is judged as that IPv4 address: IPv4-compatible
  // (::/96, as `[::127.0.0.1]` is written once parsed: `::7f00:1`), IPv4-mapped
  // (::ffff:0:0/96), IPv4-translated (::ffff:0:0:0/96) and NAT64 (64:ff9b::/96).
  it.each([
    '::127.0.0.1',
    '::7f00:1',
    '::a00:1',
    '::a9fe:a9fe',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '::ffff:0:7f00:1',
    '64:ff9b::127.0.0.1',
    '64:ff9b::7f00:1',
    '64:ff9b::a00:1',
    '0:0:0:0:0:0:7f00:1',
  ])('%s (an IPv4 address in IPv6 form) is not a public address', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  // The local-use NAT64 prefix (RFC 8215) puts the IPv4 address elsewhere by prefix length;
  // it is no target for a public webhook at all, whatever it carries.
  it.each(['64:ff9b:1::7f00:1', '64:ff9b:1:7f00:1::', '64:ff9b:1::808:808'])(
    '%s (local-use NAT64) is not a public address',
    (address) => {
      expect(isPublicAddress(address)).toBe(false);
    },
  );

  it.each([
    '8.8.8.8',
    '93.184.216.34',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '::ffff:808:808',
    '64:ff9b::808:808',
  ])('%s is a public address', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it.each([
    ['http://example.com/hook', 'invalid_url'],
    ['ftp://example.com/hook', 'invalid_url'],
    ['https://user:pass@example.com/hook', 'invalid_url'],
    ['not a url', 'invalid_url'],
    ['https://127.0.0.1/hook', 'forbidden_target'],
    ['https://2130706433/hook', 'forbidden_target'],
    ['https://0x7f.1/hook', 'forbidden_target'],
    ['https://localhost/hook', 'forbidden_target'],
    ['https://10.0.0.1/hook', 'forbidden_target'],
    ['https://[::1]/hook', 'forbidden_target'],
    ['https://[::ffff:127.0.0.1]/hook', 'forbidden_target'],
    ['https://[::127.0.0.1]/hook', 'forbidden_target'],
    ['https://[::7f00:1]/hook', 'forbidden_target'],
    ['https://[::ffff:7f00:1]/hook', 'forbidden_target'],
    ['https://[::a9fe:a9fe]/latest/meta-data', 'forbidden_target'],
    ['https://[64:ff9b::127.0.0.1]/hook', 'forbidden_target'],
    ['https://[::ffff:0:7f00:1]/hook', 'forbidden_target'],
    ['https://169.254.169.254/latest/meta-data', 'forbidden_target'],
    ['https://no-such-host.invalid/hook', 'unresolvable_host'],
  ])('refuses %s (%s) without WEBHOOKS_ALLOW_PRIVATE', async (url, problem) => {
    expect(await checkWebhookUrl(url, false)).toBe(problem);
  });

  it('accepts a public https:// address', async () => {
    expect(await checkWebhookUrl('https://93.184.216.34/hook', false)).toBeUndefined();
  });

  it('WEBHOOKS_ALLOW_PRIVATE allows http:// and private addresses, not other schemes', async () => {
    expect(await checkWebhookUrl('http://127.0.0.1:8080/hook', true)).toBeUndefined();
    expect(await checkWebhookUrl('https://localhost/hook', true)).toBeUndefined();
    expect(await checkWebhookUrl('ftp://127.0.0.1/hook', true)).toBe('invalid_url');
  });

  describe('at delivery time', () => {
    let server: http.Server;
    let port: number;
    let hits = 0;

    beforeAll(async () => {
      server = http.createServer((_req, res) => {
        hits += 1;
        res.writeHead(200).end('x'.repeat(5000));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });

    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it('refuses to connect to a name that resolves to loopback (DNS rebinding) or a loopback literal', async () => {
      const options = { timeoutMs: 2000, allowPrivate: false };
      const byName = await postWebhook(`http://localhost:${port}/`, {}, '{}', options);
      expect(byName).toMatchObject({ ok: false, statusCode: null });
      expect(byName.error).toMatch(/^refused: localhost resolves to a forbidden address/);
      const literal = await postWebhook(`http://127.0.0.1:${port}/`, {}, '{}', options);
      expect(literal.error).toBe('refused: 127.0.0.1 is a forbidden address');
      const compatible = await postWebhook(`http://[::127.0.0.1]:${port}/`, {}, '{}', options);
      expect(compatible.error).toBe('refused: ::7f00:1 is a forbidden address');
      expect(hits).toBe(0);
    });

    it('with WEBHOOKS_ALLOW_PRIVATE it connects, and keeps only 1 KB of the answer', async () => {
      const result = await postWebhook(`http://localhost:${port}/`, {}, '{}', {
        timeoutMs: 2000,
        allowPrivate: true,
      });
      expect(result).toMatchObject({ ok: true, statusCode: 200, error: null });
      expect(result.excerpt).toHaveLength(1024);
      expect(hits).toBe(1);
    });

    it('a silent receiver times out', async () => {
      const silent = http.createServer(() => undefined);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const silentPort = (silent.address() as AddressInfo).port;
      const result = await postWebhook(`http://127.0.0.1:${silentPort}/`, {}, '{}', {
        timeoutMs: 300,
        allowPrivate: true,
      });
      expect(result).toMatchObject({ ok: false, statusCode: null, error: 'timeout after 300 ms' });
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    });
  });
});
