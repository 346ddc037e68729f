import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createSocket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import {
  encodeResponse,
  parseQuery,
  startDnsServer,
  type TestDnsServer,
} from '../support/dns-server.js';

/**
 * The loopback DNS server the domain-verification tests rely on, checked against a real DNS
 * client (node:dns, c-ares): if its messages were wrong, these lookups would fail.
 */
describe('test DNS server', () => {
  let dns: TestDnsServer;

  beforeAll(async () => {
    dns = await startDnsServer();
  });
  afterAll(() => dns.close());

  const resolver = (): Resolver => {
    const r = new Resolver({ timeout: 300, tries: 1 });
    r.setServers([dns.address]);
    return r;
  };

  it('answers TXT queries with every record, each of its strings apart', async () => {
    dns.mode = 'answer';
    dns.setTxt('_probe.example.test', ['part one, ', 'part two'], 'a single string');
    const records = await resolver().resolveTxt('_probe.example.test');
    expect(records.sort()).toEqual([['a single string'], ['part one, ', 'part two']]);
  });

  it('splits a long value into 255-byte strings, as one record', async () => {
    const long = 'x'.repeat(300);
    dns.setTxt('long.example.test', long);
    const [record] = await resolver().resolveTxt('long.example.test');
    expect(record).toEqual(['x'.repeat(255), 'x'.repeat(45)]);
  });

  it('matches names case-insensitively and without the trailing dot', async () => {
    dns.setTxt('Mixed.Example.TEST.', 'v');
    expect(await resolver().resolveTxt('mixed.example.test')).toEqual([['v']]);
    expect(await resolver().resolveTxt('MIXED.example.test')).toEqual([['v']]);
  });

  it('answers NXDOMAIN for unknown names and NODATA for other types', async () => {
    await expect(resolver().resolveTxt('unknown.example.test')).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
    dns.setTxt('empty.example.test');
    await expect(resolver().resolveTxt('empty.example.test')).rejects.toMatchObject({
      code: 'ENODATA',
    });
    await expect(resolver().resolve4('long.example.test')).rejects.toMatchObject({
      code: 'ENODATA',
    });
    dns.remove('long.example.test');
    await expect(resolver().resolveTxt('long.example.test')).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
  });

  it('fails (SERVFAIL) or stays silent (a timeout) when told to', async () => {
    dns.setTxt('x.example.test', 'v');
    dns.mode = 'servfail';
    await expect(resolver().resolveTxt('x.example.test')).rejects.toMatchObject({
      code: 'ESERVFAIL',
    });
    dns.mode = 'drop';
    const started = Date.now();
    await expect(resolver().resolveTxt('x.example.test')).rejects.toMatchObject({
      code: 'ETIMEOUT',
    });
    expect(Date.now() - started).toBeLessThan(3000);
    dns.mode = 'answer';
  });

  it('records the queries it parsed', async () => {
    const before = dns.queries.length;
    await resolver().resolveTxt('x.example.test');
    const query = dns.queries[before];
    expect(query).toMatchObject({ name: 'x.example.test', type: 16, class: 1, opcode: 0 });
  });

  it('answers a malformed query with FORMERR and the same id', async () => {
    const socket = createSocket('udp4');
    const [host, port] = dns.address.split(':');
    const answer = new Promise<Buffer>((resolve) => socket.once('message', resolve));
    // A header claiming one question, with none following.
    const bad = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    socket.send(bad, Number(port), host);
    const response = await answer;
    socket.close();
    expect(response.readUInt16BE(0)).toBe(0x1234);
    expect(response.readUInt16BE(2) & 0x800f).toBe(0x8001);
  });
});

describe('DNS message encoding', () => {
  const query = Buffer.from(
    // id 0xabcd, RD; one question: example.test TXT IN; no EDNS.
    'abcd01000001000000000000076578616d706c6504746573740000100001',
    'hex',
  );

  it('parses the header and the question', () => {
    expect(parseQuery(query)).toEqual({
      id: 0xabcd,
      opcode: 0,
      recursionDesired: true,
      name: 'example.test',
      type: 16,
      class: 1,
      ednsUdpSize: undefined,
    });
  });

  it('reads the UDP size of an EDNS OPT record in the additional section', () => {
    const withOpt = Buffer.from(query);
    withOpt.writeUInt16BE(1, 10);
    // Root name, TYPE 41, CLASS (UDP size) 1232, TTL 0, RDLENGTH 0.
    const opt = Buffer.from('00' + '0029' + '04d0' + '00000000' + '0000', 'hex');
    expect(parseQuery(Buffer.concat([withOpt, opt])).ednsUdpSize).toBe(1232);
  });

  it('refuses compression pointers, trailing bytes and responses', () => {
    const pointer = Buffer.concat([query.subarray(0, 12), Buffer.from('c00c00100001', 'hex')]);
    expect(() => parseQuery(pointer)).toThrow(/compressed/);
    expect(() => parseQuery(Buffer.concat([query, Buffer.from([0])]))).toThrow(/trailing/);
    const response = Buffer.from(query);
    response[2] = 0x81;
    expect(() => parseQuery(response)).toThrow(/response/);
  });

  it('encodes TXT answers by a pointer to the question name', () => {
    const response = encodeResponse(parseQuery(query), 0, [['ab', 'c']]);
    expect(response.toString('hex')).toBe(
      'abcd' + // id
        '8500' + // QR, AA, RD, NOERROR
        '0001000100000000' +
        '076578616d706c6504746573740000100001' + // the question
        'c00c' +
        '0010' +
        '0001' +
        '00000000' +
        '0005' +
        '026162' +
        '0163',
    );
  });

  it('sets TC and drops the answers past 512 bytes without EDNS', () => {
    const big = Array.from({ length: 3 }, () => ['y'.repeat(200)]);
    const response = encodeResponse(parseQuery(query), 0, big);
    expect(response.readUInt16BE(2) & 0x0200).toBe(0x0200);
    expect(response.readUInt16BE(6)).toBe(0);
  });
});
