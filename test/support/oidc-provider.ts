import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration, type JWK } from 'oidc-provider';

/** A person at the test provider: what its ID token / userinfo will say. */
export interface OpAccount {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
}

/** How the provider's token endpoint spoils the ID tokens it answers (an attacker's forgery). */
export interface IdTokenTampering {
  /** Changes the payload after signing: the signature no longer matches it. */
  claims?: (claims: Record<string, unknown>) => Record<string, unknown>;
  /** Signs again with a key that is not in the provider's JWKS (same `kid`, same `alg`). */
  foreignKey?: boolean;
}

export interface TestOpenIdProvider {
  /** `http://127.0.0.1:<port>`: discovery at `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The account that the next login interaction signs in (no HTML forms involved). */
  loginAs(account: OpAccount): void;
  /** From now on the token endpoint answers spoiled ID tokens; `undefined` stops it. */
  tamperIdTokens(tampering: IdTokenTampering | undefined): void;
  close(): Promise<void>;
}

/**
 * A real OpenID Provider for the tests: `oidc-provider` (a certified OP implementation) on a
 * loopback port, over plain HTTP (the app reaches it with OIDC_ALLOW_INSECURE=true). Its
 * login and consent interactions finish at once for the account given to `loginAs`, so a
 * test drives the whole redirect flow with plain HTTP requests and a cookie jar.
 */
export async function startOpenIdProvider(redirectUri: string): Promise<TestOpenIdProvider> {
  const accounts = new Map<string, OpAccount>();
  let next: OpAccount | undefined;
  // Listening first: the issuer URL (which the Provider needs) carries the port.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function interact(op: Provider, req: IncomingMessage, res: ServerResponse) {
    const details = await op.interactionDetails(req, res);
    if (details.prompt.name === 'login') {
      if (next === undefined) throw new Error('loginAs() was not called');
      accounts.set(next.sub, next);
      await op.interactionFinished(
        req,
        res,
        { login: { accountId: next.sub } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    // consent: grant what the client asked for.
    const grant = new op.Grant({
      accountId: details.session!.accountId,
      clientId: details.params.client_id as string,
    });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    await op.interactionFinished(
      req,
      res,
      { consent: { grantId } },
      { mergeWithLastSubmission: true },
    );
  }

  const clientId = 'nest-saas-test';
  const clientSecret = randomBytes(24).toString('base64url');
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
    format: 'jwk',
  }) as JWK;
  const configuration: Configuration = {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    jwks: { keys: [{ ...signingKey, kid: 'test-key', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, sub) => {
      const account = accounts.get(sub);
      if (account === undefined) return undefined;
      return { accountId: sub, claims: () => ({ ...account }) };
    },
  };
  const provider = new Provider(issuer, configuration);
  let tampering: IdTokenTampering | undefined;
  const foreignKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { id_token?: unknown } | undefined;
    if (tampering && ctx.path === '/token' && typeof body?.id_token === 'string') {
      ctx.body = { ...body, id_token: tamper(body.id_token, tampering, foreignKey) };
    }
  });
  const handle = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url?.startsWith('/interaction/')) {
      interact(provider, req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
      return;
    }
    void handle(req, res);
  });

  return {
    issuer,
    clientId,
    clientSecret,
    loginAs(account) {
      next = account;
    },
    tamperIdTokens(value) {
      tampering = value;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function tamper(jwt: string, tampering: IdTokenTampering, foreignKey: KeyObject): string {
  const [header = '', payload = '', signature = ''] = jwt.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<
    string,
    unknown
  >;
  const newPayload = tampering.claims
    ? Buffer.from(JSON.stringify(tampering.claims(claims))).toString('base64url')
    : payload;
  const input = `${header}.${newPayload}`;
  const newSignature = tampering.foreignKey
    ? sign('sha256', Buffer.from(input), foreignKey).toString('base64url') // RS256
    : signature;
  return `${input}.${newSignature}`;
}
