import { describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import {
  generateWebhookSecret,
  sealSecret,
  unsealSecret,
  webhookHeaders,
  webhookSealKey,
} from './webhook-signing.js';

describe('webhook signing', () => {
  const body = JSON.stringify({ id: 'evt_1', type: 'team.updated', data: { name: 'x' } });
  const now = Math.floor(Date.now() / 1000);

  it('signs exactly as the standardwebhooks library verifies', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const headers = webhookHeaders([secret], 'evt_1', now, body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('a tampered body or another secret fails verification', () => {
    const secret = generateWebhookSecret();
    const headers = webhookHeaders([secret], 'evt_1', now, body);
    expect(() => new Webhook(secret).verify(body.replace('x', 'y'), headers)).toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
  });

  it('during a rotation either secret verifies the two-signature header', () => {
    const [current, previous] = [generateWebhookSecret(), generateWebhookSecret()];
    const headers = webhookHeaders([current, previous], 'evt_1', now, body);
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(new Webhook(current).verify(body, headers)).toBeTruthy();
    expect(new Webhook(previous).verify(body, headers)).toBeTruthy();
  });

  it('seals secrets at rest; another JWT_SECRET cannot unseal them', () => {
    const secret = generateWebhookSecret();
    const sealed = sealSecret(webhookSealKey('a'.repeat(32)), secret);
    expect(sealed).not.toContain(secret.slice(6));
    expect(unsealSecret(webhookSealKey('a'.repeat(32)), sealed)).toBe(secret);
    expect(() => unsealSecret(webhookSealKey('b'.repeat(32)), sealed)).toThrow();
  });
});
