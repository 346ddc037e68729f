// A Node app using the packed client as a frontend would, against a running API (run.mjs packs
// the client, installs the tarball in a scratch project, typechecks this file there with
// `strict` and `noUncheckedIndexedAccess`, and runs it on Node 20 and 24). Needs API_URL, and
// JWT_SECRET (the app's) to forge an expired access token of a live session; the API must run
// with its dev outbox on (not production, no SMTP_URL) to hand out the verification mail.
import { createHmac, randomBytes } from 'node:crypto';
import {
  createClient,
  isMfaRequired,
  memoryTokenStore,
  signOut,
  type ApiError,
  type Schemas,
} from '@nest-saas/client';

const baseUrl = requiredEnv('API_URL');
const jwtSecret = requiredEnv('JWT_SECRET');

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`check failed: ${message}`);
}

function passed(step: string): void {
  process.stdout.write(`  ok   ${step}\n`);
}

/** RFC 6238 (SHA-1, 6 digits, 30 s), what an authenticator app shows for `secretBase32`. */
function totp(secretBase32: string, now = Date.now()): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const char of secretBase32.replace(/=+$/, '').toUpperCase()) {
    bits += alphabet.indexOf(char).toString(2).padStart(5, '0');
  }
  const bytes: number[] = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(now / 30_000)));
  const mac = createHmac('sha1', Buffer.from(bytes)).update(counter).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0xf;
  return ((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).toString().padStart(6, '0');
}

/** The same access token (same user and session) signed with the app's key, expired. */
function expired(accessToken: string): string {
  const payload = accessToken.split('.')[1];
  check(payload !== undefined, 'the access token is a JWT');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as object;
  const now = Math.floor(Date.now() / 1000);
  const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...claims, iat: now - 120, exp: now - 60 })}`;
  return `${unsigned}.${createHmac('sha256', jwtSecret).update(unsigned).digest('base64url')}`;
}

interface OutboxMail {
  kind: string;
  to: string;
  subject: string;
  links: string[];
}

/** The first link containing `path` in the newest mail to `to` in the API's dev outbox. */
async function outboxLink(to: string, path: string): Promise<string> {
  const url = `${baseUrl}/dev/mail.json?to=${encodeURIComponent(to)}`;
  // The job worker picks the mail up within about a second of the sign-up.
  for (let attempt = 0; attempt < 100; attempt++) {
    const response = await fetch(url, { headers: { Accept: 'application/json' } });
    check(response.ok, `GET /dev/mail.json answers ${response.status}`);
    const { items } = (await response.json()) as { items: OutboxMail[] };
    const link = items.flatMap((mail) => mail.links).find((href) => href.includes(path));
    if (link !== undefined) return link;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no mail to ${to} with a ${path} link in the dev outbox`);
}

// Every request the client sends, as `METHOD /path status`.
const calls: string[] = [];
const ended: ApiError[] = [];
const api = createClient({
  baseUrl,
  tokens: memoryTokenStore(),
  onSessionEnded: (error) => ended.push(error),
  fetch: async (request) => {
    const response = await fetch(request);
    calls.push(`${request.method} ${new URL(request.url).pathname} ${response.status}`);
    return response;
  },
});

const email = `client-${randomBytes(6).toString('hex')}@example.test`;
const password = 'correct horse battery staple';

// Sign up: the answer carries the session's tokens.
const signUp = await api.POST('/api/v1/auth/sign-up', { body: { email, password, name: 'Ada' } });
if (signUp.error) throw new Error(`sign-up: ${signUp.error.code}`);
await api.tokens.set(signUp.data);
const me = await api.GET('/api/v1/users/me');
check(me.data?.email === email, 'GET /users/me with the stored token');
passed('sign up, the stored token is sent');

// Verify the address as a frontend developer does locally: the API runs without SMTP_URL
// outside production, so the verification mail waits in its dev outbox (GET /dev/mail.json,
// not part of the typed contract: plain fetch). The link points at the frontend
// (APP_URL/verify-email?token=…), whose page posts the token.
const verificationLink = await outboxLink(email, '/verify-email');
const token = new URL(verificationLink).searchParams.get('token');
check(token !== null, `a token in ${verificationLink}`);
const verified = await api.POST('/api/v1/auth/verify-email', { body: { token } });
if (verified.error) throw new Error(`verify-email: ${verified.error.code}`);
const meVerified = await api.GET('/api/v1/users/me');
check(meVerified.data?.emailVerified === true, 'the address is verified');
passed('verify the email with the link from the dev outbox');

// Errors are typed with the operation's documented codes.
const again = await api.POST('/api/v1/auth/sign-up', { body: { email, password } });
// Compiles only while 'user.email_taken' is one of the codes this operation documents.
const emailTaken: NonNullable<typeof again.error>['code'] = 'user.email_taken';
check(again.error?.code === emailTaken, `409 user.email_taken, got ${again.response.status}`);
passed('typed error codes');

// Two-factor sign-in on, then sign in: the MFA challenge, then the second step.
const enrol = await api.POST('/api/v1/users/me/mfa/totp', { body: { password } });
if (enrol.error) throw new Error(`mfa enrol: ${enrol.error.code}`);
const confirm = await api.POST('/api/v1/users/me/mfa/totp/confirm', {
  body: { code: totp(enrol.data.secret) },
});
if (confirm.error) throw new Error(`mfa confirm: ${confirm.error.code}`);
const recoveryCode = confirm.data.recoveryCodes[0];
check(recoveryCode !== undefined, 'recovery codes');
check(await signOut(api), 'signOut answers true');
check((await api.tokens.get()) === null, 'signOut clears the tokens');

const signIn = await api.POST('/api/v1/auth/sign-in', { body: { email, password } });
if (signIn.error) throw new Error(`sign-in: ${signIn.error.code}`);
check(isMfaRequired(signIn.data), 'sign-in asks for the second factor');
if (isMfaRequired(signIn.data)) {
  const second = await api.POST('/api/v1/auth/sign-in/mfa', {
    body: { mfaToken: signIn.data.mfaToken, code: recoveryCode },
  });
  if (second.error) throw new Error(`sign-in/mfa: ${second.error.code}`);
  await api.tokens.set(second.data);
} else {
  // Narrowed to the session answer: the tokens are there.
  const session: Schemas['SignInResponseDto'] = signIn.data;
  await api.tokens.set(session);
}
passed('sign in with MFA (isMfaRequired, then sign-in/mfa)');

// Typed calls.
const team = await api.POST('/api/v1/teams', { body: { name: 'Client Team' } });
if (team.error) throw new Error(`create team: ${team.error.code}`);
const owner: Schemas['TeamMemberDto'] | undefined = team.data.teamMembers[0];
check(owner?.role === 'owner', 'I own the new team');
const invited = await api.POST('/api/v1/teams/{teamId}/invitations', {
  params: { path: { teamId: team.data.id } },
  body: { email: `invitee-${randomBytes(4).toString('hex')}@example.test`, role: 'member' },
});
check(invited.response.status === 201, `invite: ${invited.response.status}`);
const listed = await api.GET('/api/v1/teams/{teamId}/invitations', {
  params: { path: { teamId: team.data.id }, query: { limit: 10 } },
});
check(listed.data?.items.length === 1, 'one pending invitation');
passed('typed calls (team, invitation, list)');

// The access token expires: two concurrent calls share one refresh, and each is retried.
const live = await api.tokens.get();
check(live !== null, 'signed in');
await api.tokens.set({ accessToken: expired(live.accessToken), refreshToken: live.refreshToken });
calls.length = 0;
const [mine, renamed] = await Promise.all([
  api.GET('/api/v1/teams', { params: { query: { limit: 10 } } }),
  api.PATCH('/api/v1/teams/{teamId}', {
    params: { path: { teamId: team.data.id } },
    body: { name: 'Renamed Team' },
  }),
]);
check(
  mine.data?.items.some((item) => item.id === team.data.id) === true,
  'GET /teams retried after the refresh',
);
check(renamed.data?.name === 'Renamed Team', 'PATCH retried with its body');
const refreshes = calls.filter((call) => call.startsWith('POST /api/v1/auth/refresh '));
check(
  refreshes.length === 1 && refreshes[0] === 'POST /api/v1/auth/refresh 200',
  `one refresh, got ${JSON.stringify(calls)}`,
);
const rotated = await api.tokens.get();
check(rotated !== null && rotated.refreshToken !== live.refreshToken, 'the new pair is stored');
passed('an expired token is refreshed once and the calls retried');

// Sign out: the session ends at the API, the tokens are gone, nothing is refreshed after.
check(await signOut(api), 'signOut answers true');
check((await api.tokens.get()) === null, 'tokens cleared');
const stale = createClient({
  baseUrl,
  headers: { Authorization: `Bearer ${rotated.accessToken}` },
});
check((await stale.GET('/api/v1/users/me')).error?.code === 'auth.unauthorized', 'token revoked');
calls.length = 0;
check((await api.GET('/api/v1/users/me')).response.status === 401, 'signed out');
check(calls.length === 1 && ended.length === 0, `no refresh after sign-out: ${calls.join(', ')}`);
passed('sign out');
