import { describe, expect, it } from '@jest/globals';
import { loadDnsConfig } from './dns-config.js';

describe('DNS config', () => {
  it('uses the system resolvers and a 2 s timeout by default', () => {
    expect(loadDnsConfig({})).toEqual({ servers: undefined, timeoutMs: 2000 });
    expect(loadDnsConfig({ DNS_SERVERS: ' ' })).toEqual({ servers: undefined, timeoutMs: 2000 });
  });

  it('reads comma-separated host:port entries, port 53 by default', () => {
    expect(
      loadDnsConfig({
        DNS_SERVERS: '127.0.0.1:5353, 192.0.2.1 ,[::1]:53,[2001:db8::1]',
        DNS_TIMEOUT_MS: '250',
      }),
    ).toEqual({
      servers: ['127.0.0.1:5353', '192.0.2.1:53', '[::1]:53', '[2001:db8::1]:53'],
      timeoutMs: 250,
    });
  });

  it.each([
    'dns.example.com',
    'dns.example.com:53',
    '127.0.0.1:0',
    '127.0.0.1:65536',
    '127.0.0.1:x',
    '::1',
    '[127.0.0.1]:53',
    '[::1',
    '1.2.3:53',
  ])('refuses DNS_SERVERS=%j naming the variable', (value) => {
    expect(() => loadDnsConfig({ DNS_SERVERS: value })).toThrow(/DNS_SERVERS/);
  });

  it.each(['50', '30001', '1.5', 'fast'])('refuses DNS_TIMEOUT_MS=%j', (value) => {
    expect(() => loadDnsConfig({ DNS_TIMEOUT_MS: value })).toThrow(/DNS_TIMEOUT_MS/);
  });
});
