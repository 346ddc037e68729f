import { describe, expect, it } from '@jest/globals';
import { DevOutbox, isLoopbackAddress, linksIn, mailLogLine, prefersJson } from './dev-outbox.js';

const mail = (to: string, n = 0) => ({
  kind: 'password reset link',
  to,
  subject: `Reset ${n}`,
  text: `Reset here: https://app.test/reset-password?token=t${n}`,
});

describe('mailLogLine (the log line of a mail kept instead of sent)', () => {
  it('names the kind of mail, the recipient and the link, on one line', () => {
    expect(
      mailLogLine({
        kind: 'verification link',
        to: 'ada@example.test',
        subject: 'Verify your email address',
        text: 'Please confirm.\n\nConfirm it here (valid for 24 hours, once): https://app.test/verify-email?token=a%2Bb\n\nIgnore otherwise.',
      }),
    ).toBe('verification link for ada@example.test: https://app.test/verify-email?token=a%2Bb');
  });

  it('gives the subject when the mail has no link', () => {
    expect(
      mailLogLine({
        kind: 'email change notice',
        to: 'ada@example.test',
        subject: 'Your email address is being changed',
        text: 'Someone asked to change it to bob@example.test.\n\nIf this was not you, act.',
      }),
    ).toBe('email change notice for ada@example.test: "Your email address is being changed"');
  });

  it('lists every distinct link and keeps user text to one line', () => {
    expect(
      mailLogLine({
        kind: 'invitation link',
        to: 'bob@example.test',
        subject: 'Ada\r\ninvited you',
        text: 'a http://x.test/a b https://y.test/b?c=1. again http://x.test/a',
      }),
    ).toBe('invitation link for bob@example.test: http://x.test/a https://y.test/b?c=1');
    expect(
      mailLogLine({ kind: 'notice', to: 'b@x.test', subject: 'Line\r\nbreak\u2028here', text: '' }),
    ).toBe('notice for b@x.test: "Line break here"');
  });
});

describe('linksIn', () => {
  it('finds http(s) links only, without trailing sentence punctuation', () => {
    expect(
      linksIn(
        'Go to https://a.test/x?y=1, or (http://b.test/z). Not javascript:alert(1) nor evil[.]com',
      ),
    ).toEqual(['https://a.test/x?y=1', 'http://b.test/z']);
  });
});

describe('DevOutbox', () => {
  it('keeps the last `capacity` mails, newest first', () => {
    const outbox = new DevOutbox(3);
    for (let n = 1; n <= 5; n++) outbox.add(mail('a@x.test', n), `job-${n}`, new Date(n * 1000));
    expect(outbox.list().map((entry) => entry.subject)).toEqual(['Reset 5', 'Reset 4', 'Reset 3']);
    expect(outbox.list()[0]).toMatchObject({
      id: 'job-5',
      kind: 'password reset link',
      to: 'a@x.test',
      sentAt: new Date(5000).toISOString(),
      links: ['https://app.test/reset-password?token=t5'],
    });
  });

  it('filters by recipient, ignoring case', () => {
    const outbox = new DevOutbox(10);
    outbox.add(mail('a@x.test', 1), '1', new Date());
    outbox.add(mail('b@x.test', 2), '2', new Date());
    expect(outbox.list('A@X.test').map((entry) => entry.id)).toEqual(['1']);
    expect(outbox.list('c@x.test')).toEqual([]);
  });
});

describe('prefersJson (content negotiation of GET /dev/mail)', () => {
  it.each([
    [undefined, false],
    ['*/*', false],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', false],
    ['application/json', true],
    ['application/json, text/plain, */*', true],
    ['text/html;q=0.5, application/json', true],
    ['application/json;q=0.5, text/html', false],
    ['application/json;q=0', false],
  ])('Accept %j -> JSON %j', (accept, json) => {
    expect(prefersJson(accept)).toBe(json);
  });
});

describe('isLoopbackAddress (the outbox answers only this machine)', () => {
  it.each(['127.0.0.1', '127.3.2.1', '::1', '::ffff:127.0.0.1'])('%s is this machine', (a) => {
    expect(isLoopbackAddress(a)).toBe(true);
  });
  it.each(['10.0.0.1', '192.168.1.2', '::ffff:10.0.0.1', '2001:db8::1', '128.0.0.1', undefined])(
    '%s is not',
    (a) => {
      expect(isLoopbackAddress(a)).toBe(false);
    },
  );
});
