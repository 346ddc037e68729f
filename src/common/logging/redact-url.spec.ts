import { describe, expect, it } from '@jest/globals';
import { redactUrl } from './redact-url.js';

describe('redactUrl', () => {
  it("hides an OpenID Connect callback's code and state, keeping the rest as it came", () => {
    expect(
      redactUrl('/api/v1/auth/oidc/google/callback?code=abc.DEF&state=xyz&iss=https%3A%2F%2Fop'),
    ).toBe(
      '/api/v1/auth/oidc/google/callback?code=[redacted]&state=[redacted]&iss=https%3A%2F%2Fop',
    );
  });

  it('hides any parameter named like a token, secret or password, whatever its case or encoding', () => {
    expect(
      redactUrl(
        '/x?token=t&id_token=i&Access_Token=a&client_secret=s&password=p&%74oken=e&limit=5',
      ),
    ).toBe(
      '/x?token=[redacted]&id_token=[redacted]&Access_Token=[redacted]&client_secret=[redacted]&password=[redacted]&%74oken=[redacted]&limit=5',
    );
  });

  it('leaves URLs without secrets alone, odd ones included', () => {
    for (const url of [
      '/api/v1/teams',
      '/api/v1/teams?limit=20&cursor=abc',
      '/x?',
      '/x?flag&code',
      '/x?%E0%A4%A=1',
      '/x?a=1&&b=2',
    ]) {
      expect(redactUrl(url)).toBe(url);
    }
  });

  it('hides a repeated parameter every time, and keeps an empty value visible as redacted', () => {
    expect(redactUrl('/x?code=1&code=2&state=')).toBe(
      '/x?code=[redacted]&code=[redacted]&state=[redacted]',
    );
  });
});
