import { expect } from '@jest/globals';
import { eq } from 'drizzle-orm';
import { users } from '../../src/database/schema.js';
import type { TestApp } from './app.js';
import { uniqueEmail } from './app.js';
import type { CapturedMail } from './smtp.js';

export interface SignedUp {
  accessToken: string;
  refreshToken: string;
  user: {
    id: number;
    name: string | null;
    email: string;
    role: string;
    createdAt: string;
    updatedAt: string;
    emailVerified: boolean;
    pendingEmail: string | null;
  };
  team: { id: number; name: string; role: string };
  email: string;
  password: string;
}

export interface SignedIn {
  accessToken: string;
  refreshToken: string;
  user: SignedUp['user'];
}

export const DEFAULT_PASSWORD = 'correct horse battery staple';

/** `Authorization` header value for supertest's `.set('Authorization', bearer(token))`. */
export function bearer(token: string): string {
  return `Bearer ${token}`;
}

/** Signs up a fresh user (unique email unless given) through the API; expects 201. */
export async function signUp(
  t: TestApp,
  input: { email?: string; password?: string; name?: string } = {},
): Promise<SignedUp> {
  const email = input.email ?? uniqueEmail();
  const password = input.password ?? DEFAULT_PASSWORD;
  const body: Record<string, string> = { email, password };
  if (input.name !== undefined) body.name = input.name;
  const res = await t.http.post('/api/v1/auth/sign-up').send(body);
  expect({ status: res.status, body: res.body }).toMatchObject({ status: 201 });
  return { ...(res.body as Omit<SignedUp, 'email' | 'password'>), email, password };
}

/** Signs in through the API; expects 200. */
export async function signIn(t: TestApp, email: string, password: string): Promise<SignedIn> {
  const res = await t.http.post('/api/v1/auth/sign-in').send({ email, password });
  expect({ status: res.status, body: res.body }).toMatchObject({ status: 200 });
  return res.body as SignedIn;
}

/**
 * Marks the user's current email verified in the database, as the emailed link would. For
 * suites that need a verified user and are not about verification (the link flow itself is
 * tested over SMTP in email-verification.e2e-spec.ts).
 */
export async function markEmailVerified(t: TestApp, userId: number): Promise<void> {
  await t.db.update(users).set({ emailVerifiedAt: new Date() }).where(eq(users.id, userId));
}

/** Signs up a fresh user and verifies their email (see markEmailVerified). */
export async function signUpVerified(
  t: TestApp,
  input: Parameters<typeof signUp>[1] = {},
): Promise<SignedUp> {
  const signed = await signUp(t, input);
  await markEmailVerified(t, signed.user.id);
  return { ...signed, user: { ...signed.user, emailVerified: true } };
}

/** The token of the `APP_URL/verify-email?token=…` link in a captured mail. */
export function verificationTokenFrom(mail: CapturedMail): string {
  const match = /\/verify-email\?token=([^\s"<]+)/.exec(mail.text);
  if (!match) throw new Error(`No verification link in the mail "${mail.subject}"`);
  return decodeURIComponent(match[1]!);
}
