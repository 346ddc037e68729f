import { expect } from '@jest/globals';

/** Asserts a 429 in the API's error shape with a Retry-After within the rate-limit window. */
export function expect429(res: { status: number; body: unknown; headers: Record<string, string> }) {
  expect({ status: res.status, body: res.body }).toEqual({
    status: 429,
    body: {
      statusCode: 429,
      error: 'Too Many Requests',
      code: 'request.rate_limited',
      message: expect.stringMatching(/^Too many attempts, try again in \d+ s$/),
    },
  });
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(600);
}
