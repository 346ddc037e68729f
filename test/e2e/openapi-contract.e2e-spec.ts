import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { OpenAPIObject, OperationObject, ParameterObject } from '@nestjs/swagger';
import supertest from 'supertest';
import { buildOpenApiDocument } from '../../src/app.setup.js';
import {
  schemaSerializedResponses,
  type SerializerSchema,
} from '../../src/common/openapi/ok-response.decorator.js';
import { TeamActivityPageDto, TeamDetailDto } from '../../src/modules/teams/teams.dto.js';
import { MeDto } from '../../src/modules/users/users.dto.js';
import { createTestApp, type TestApp, uniqueEmail } from '../support/app.js';
import { bearer, signUp } from '../support/auth.js';
import { OpenApiResponseValidator } from '../support/openapi-validator.js';

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
/** Operations answered without a query (Stripe and a cache; the configuration). */
const WITHOUT_DATABASE = ['GET /api/v1/billing/plans', 'GET /api/v1/auth/providers'];

interface ErrorResponseObject {
  headers?: Record<string, { required?: boolean }>;
  content?: {
    'application/json'?: { schema?: { allOf?: { properties?: { code?: { enum?: string[] } } }[] } };
  };
}

function operations(doc: OpenAPIObject): { key: string; path: string; op: OperationObject }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m] !== undefined).map((m) => ({
      key: `${m.toUpperCase()} ${path}`,
      path,
      op: item[m]!,
    })),
  );
}

/** The `code` values an error response of the document lists. */
function codes(op: OperationObject, status: number): string[] {
  const response = op.responses[status] as ErrorResponseObject | undefined;
  return response?.content?.['application/json']?.schema?.allOf?.[1]?.properties?.code?.enum ?? [];
}

interface DocumentSchema {
  $ref?: string;
  anyOf?: DocumentSchema[];
  enum?: unknown[];
  type?: string;
  format?: string;
  nullable?: boolean;
  properties?: Record<string, DocumentSchema>;
  items?: DocumentSchema;
}

/**
 * What a document schema tells fast-json-stringify (ok-response.decorator.ts): types, formats,
 * properties, items and nullability, with references resolved. The document writes a nullable
 * DTO as `anyOf` [its reference, a null object].
 */
function serializerView(doc: OpenAPIObject, schema: DocumentSchema): SerializerSchema {
  if (schema.$ref !== undefined) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    return serializerView(doc, doc.components!.schemas![name] as DocumentSchema);
  }
  if (schema.anyOf !== undefined) {
    const [only, ...rest] = schema.anyOf.filter((variant) => variant.enum?.[0] !== null);
    if (only === undefined || rest.length > 0) throw new Error('a union is not serialized');
    const view = serializerView(doc, only);
    return schema.anyOf.length > 1 ? { ...view, type: [view.type as string, 'null'] } : view;
  }
  let view: SerializerSchema;
  if (schema.enum !== undefined) view = { type: 'string' };
  else if (schema.type === 'array')
    view = { type: 'array', items: serializerView(doc, schema.items!) };
  else if (schema.properties !== undefined) {
    view = {
      type: 'object',
      properties: Object.fromEntries(
        Object.entries(schema.properties).map(([key, value]) => [key, serializerView(doc, value)]),
      ),
    };
  } else {
    view = {
      type: schema.type!,
      ...(schema.format === 'date-time' ? { format: 'date-time' } : {}),
    };
  }
  return schema.nullable === true ? { ...view, type: [view.type as string, 'null'] } : view;
}

describe('the OpenAPI document is a contract generated clients and validating proxies can trust', () => {
  let t: TestApp;
  let doc: OpenAPIObject;
  let validator: OpenApiResponseValidator;

  beforeAll(async () => {
    t = await createTestApp();
    doc = buildOpenApiDocument(t.app);
    validator = new OpenApiResponseValidator(doc);
  });

  afterAll(async () => {
    await t.close();
  });

  describe('the response check of createTestApp has teeth', () => {
    it('fails an undocumented status, naming method, path and status', async () => {
      const crippled = structuredClone(doc);
      delete crippled.paths['/api/v1/users/me']!.get!.responses['401'];
      const res = await supertest(t.app.getHttpServer()).get('/api/v1/users/me').expect(401);
      expect(new OpenApiResponseValidator(crippled).check('GET', '/api/v1/users/me', res)).toMatch(
        /^GET \/api\/v1\/users\/me \(operation Users_me\) answered 401, which the OpenAPI document does not list/,
      );
      expect(validator.check('GET', '/api/v1/users/me', res)).toBeUndefined();
    });

    it('fails a body that does not match the schema of its status, with the ajv errors', async () => {
      const crippled = structuredClone(doc);
      const schema = crippled.paths['/health']!.get!.responses['200'] as unknown as {
        content: { 'application/json': { schema: { properties: { status: { enum: string[] } } } } };
      };
      schema.content['application/json'].schema.properties.status.enum = ['up'];
      const res = await supertest(t.app.getHttpServer()).get('/health').expect(200);
      expect(new OpenApiResponseValidator(crippled).check('GET', '/health', res)).toMatch(
        /GET \/health \(operation Health_live\) answered 200 with a body that does not match its schema:\n {2}\/status must be equal to one of the allowed values/,
      );
    });

    it('fails an error code the operation does not list', async () => {
      const crippled = structuredClone(doc);
      const unauthorized = crippled.paths['/api/v1/users/me']!.get!.responses[
        '401'
      ] as ErrorResponseObject;
      unauthorized.content!['application/json']!.schema!.allOf![1]!.properties!.code!.enum = [
        'x.y',
      ];
      const res = await supertest(t.app.getHttpServer()).get('/api/v1/users/me').expect(401);
      expect(new OpenApiResponseValidator(crippled).check('GET', '/api/v1/users/me', res)).toMatch(
        /\/code must be equal to one of the allowed values/,
      );
    });

    it('fails a response field the document does not describe', async () => {
      const owner = await signUp(t);
      const crippled = structuredClone(doc);
      const me = crippled.components!.schemas!.MeDto as {
        properties: Record<string, unknown>;
        required: string[];
      };
      delete me.properties.role;
      me.required = me.required.filter((name) => name !== 'role');
      const res = await supertest(t.app.getHttpServer())
        .get('/api/v1/users/me')
        .set('Authorization', bearer(owner.accessToken))
        .expect(200);
      expect(new OpenApiResponseValidator(crippled).check('GET', '/api/v1/users/me', res)).toMatch(
        /\(body\) must NOT have additional properties \{"additionalProperty":"role"\}/,
      );
      expect(validator.check('GET', '/api/v1/users/me', res)).toBeUndefined();
    });

    it('skips what the document does not describe (admin, docs, unknown routes)', async () => {
      const http = supertest(t.app.getHttpServer());
      for (const path of ['/docs-json', '/admin/login', '/api/v1/nope']) {
        const res = await http.get(path);
        expect({ path, problem: validator.check('GET', path, res) }).toEqual({
          path,
          problem: undefined,
        });
      }
    });
  });

  describe('the document', () => {
    it('is the schema every response serialized by schema is written with (@ApiOkJson)', () => {
      const serialized = schemaSerializedResponses();
      // The hot reads at least (bench/RESULTS.md item 25).
      expect([...serialized.keys()]).toEqual(
        expect.arrayContaining([TeamDetailDto, TeamActivityPageDto, MeDto]),
      );
      for (const [dto, schema] of serialized) {
        expect({ dto: dto.name, schema }).toEqual({
          dto: dto.name,
          schema: serializerView(doc, { $ref: `#/components/schemas/${dto.name}` }),
        });
      }
    });

    it('declares no header a client must invent (User-Agent) and Stripe-Signature once', () => {
      const headers = operations(doc).flatMap(({ key, op }) =>
        ((op.parameters ?? []) as ParameterObject[])
          .filter((p) => p.in === 'header')
          .map((p) => `${key} ${p.name} required=${String(p.required)}`),
      );
      expect(headers).toEqual(['POST /api/v1/billing/webhook Stripe-Signature required=true']);
    });

    it('has a server, and `security: []` on every public operation', () => {
      expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
      for (const { key, op } of operations(doc)) {
        expect({ key, security: Array.isArray(op.security) }).toEqual({ key, security: true });
      }
      expect(doc.paths['/api/v1/auth/sign-in']!.post!.security).toEqual([]);
      expect(doc.paths['/api/v1/teams']!.get!.security).toEqual([{ bearer: [] }]);
    });

    it('documents 400/413/415 with their codes on every operation with a JSON body', () => {
      const withBody = operations(doc).filter(({ op }) => op.requestBody !== undefined);
      expect(withBody.length).toBeGreaterThan(10);
      for (const { key, op } of withBody) {
        expect({ key, codes: codes(op, 413) }).toEqual({ key, codes: ['request.too_large'] });
        expect({ key, codes: codes(op, 415) }).toEqual({
          key,
          codes: ['request.unsupported_charset', 'request.unsupported_media_type'],
        });
        // The webhook's raw Stripe event is no DTO, so only DTO bodies can fail validation.
        const dto = key !== 'POST /api/v1/billing/webhook';
        expect({ key, codes: codes(op, 400) }).toEqual({
          key,
          codes: expect.arrayContaining(
            dto
              ? ['request.invalid', 'request.malformed_json', 'request.too_deep']
              : ['request.malformed_json', 'request.too_deep'],
          ),
        });
        if (!dto) expect(codes(op, 400)).not.toContain('request.invalid');
      }
    });

    it('documents 503 `service.unavailable` with Retry-After on every database-backed API operation', () => {
      for (const { key, path, op } of operations(doc)) {
        if (!path.startsWith('/api/') || WITHOUT_DATABASE.includes(key)) continue;
        expect({ key, codes: codes(op, 503) }).toEqual({
          key,
          codes: expect.arrayContaining(['service.unavailable']),
        });
        const response = op.responses['503'] as ErrorResponseObject;
        expect({ key, header: response.headers?.['Retry-After'] }).toEqual({
          key,
          header: expect.objectContaining({
            schema: { type: 'integer', format: 'int32', minimum: 0 },
          }),
        });
      }
      expect(codes(doc.paths['/api/v1/billing/plans']!.get!, 503)).toEqual([
        'billing.not_configured',
      ]);
    });

    it('lists the stable codes of each error response from the error catalogues', () => {
      const patchMember = doc.paths['/api/v1/teams/{teamId}/members/{memberId}']!.patch!;
      expect(codes(patchMember, 404)).toEqual(['team.member_not_found', 'team.not_found']);
      expect(codes(patchMember, 409)).toEqual(['team.last_owner']);
      expect(codes(patchMember, 403)).toEqual([
        'api_key.role_forbidden',
        'api_key.scope_missing',
        'email.unverified',
        'team.forbidden',
      ]);
      // API.md v1.2: a key never creates or grants `owner`, by invitation or by role change.
      expect(codes(doc.paths['/api/v1/teams/{teamId}/invitations']!.post!, 403)).toContain(
        'api_key.role_forbidden',
      );
      expect(codes(patchMember, 401)).toEqual(['auth.unauthorized']);
      // email.unverified (EMAIL_VERIFICATION=required) on every authenticated operation but the
      // three that @AllowUnverifiedEmail opens to unverified users.
      const me = doc.paths['/api/v1/users/me']!.get!;
      expect(me.responses['403']).toBeUndefined();
      expect(codes(doc.paths['/api/v1/teams']!.get!, 403)).toEqual(['email.unverified']);
      expect(Object.keys(me)).not.toContain('x-allow-unverified-email');
      const signIn = doc.paths['/api/v1/auth/sign-in']!.post!;
      expect(codes(signIn, 401)).toEqual(['auth.invalid_credentials']);
      expect(codes(signIn, 429)).toEqual(['request.rate_limited']);
      expect(
        (signIn.responses['429'] as ErrorResponseObject).headers?.['Retry-After']?.required,
      ).toBe(true);
      // A member always satisfies GET /teams/{teamId}: its only 403s are the unverified email's
      // and a team API key's without `team:read`.
      expect(codes(doc.paths['/api/v1/teams/{teamId}']!.get!, 403)).toEqual([
        'api_key.scope_missing',
        'email.unverified',
      ]);
      expect(codes(doc.paths['/api/v1/teams']!.get!, 400)).toEqual([
        'request.invalid',
        'request.invalid_cursor',
      ]);
    });

    it('writes a nullable reference so that validators accept null', () => {
      const schemas = doc.components!.schemas! as Record<
        string,
        { properties: Record<string, unknown> }
      >;
      expect(schemas.TeamActivityDto!.properties.user).toEqual({
        anyOf: [
          { $ref: '#/components/schemas/TeamMemberUserDto' },
          { type: 'object', nullable: true, enum: [null] },
        ],
      });
    });

    it('states the request rules the app enforces', () => {
      const schemas = doc.components!.schemas! as Record<
        string,
        { additionalProperties?: boolean; properties: Record<string, Record<string, unknown>> }
      >;
      expect(schemas.SignUpDto!.additionalProperties).toBe(false);
      expect(schemas.SignUpDto!.properties.email).toMatchObject({
        format: 'email',
        maxLength: 255,
      });
      expect(schemas.SignUpDto!.properties.inviteToken).toMatchObject({
        minLength: 1,
        maxLength: 2048,
      });
      expect(schemas.RefreshDto!.properties.refreshToken).toMatchObject({
        minLength: 1,
        maxLength: 200,
      });
      expect(schemas.PasswordResetConfirmDto!.properties.token).toMatchObject({
        minLength: 1,
        maxLength: 200,
      });
      expect(schemas.CreateCheckoutDto!.properties.priceId).toMatchObject({
        pattern: '^price_[A-Za-z0-9_]+$',
        maxLength: 255,
      });
      const list = doc.paths['/api/v1/teams']!.get!.parameters as ParameterObject[];
      expect(list.find((p) => p.name === 'limit')!.schema).toMatchObject({
        type: 'integer',
        minimum: 1,
        maximum: 100,
      });
      expect(list.find((p) => p.name === 'cursor')!.schema).toMatchObject({ maxLength: 200 });
      const success = doc.paths['/api/v1/billing/checkout/success']!.get!
        .parameters as ParameterObject[];
      expect(success.find((p) => p.name === 'session_id')!.schema).toMatchObject({
        pattern: '^cs_[A-Za-z0-9_]+$',
        maxLength: 255,
      });
    });

    it('documents the body of GET /health', () => {
      expect(doc.paths['/health']!.get!.responses['200']).toMatchObject({
        content: { 'application/json': { schema: { properties: { status: { enum: ['ok'] } } } } },
      });
    });
  });

  describe('requests: what the document accepts the app accepts, and the other way round', () => {
    const long = 'x'.repeat(100);
    const cases: [string, unknown][] = [
      ['a plain name', { name: 'Acme' }],
      ['a name padded with spaces', { name: '  Acme  ' }],
      ['100 characters', { name: long }],
      ['100 characters padded with spaces', { name: `  ${long}  ` }],
      ['101 characters', { name: `${long}y` }],
      ['blank', { name: '   ' }],
      ['empty', { name: '' }],
      ['a number', { name: 42 }],
      ['an unknown field', { name: 'Acme', plan: 'gold' }],
      ['no name', {}],
    ];

    it.each(cases)('POST /teams with %s', async (_label, body) => {
      const owner = await signUp(t);
      const accepted = validator.acceptsRequestBody('post', '/api/v1/teams', body);
      const res = await t.http
        .post('/api/v1/teams')
        .set('Authorization', bearer(owner.accessToken))
        .send(body as object);
      expect({ documentAccepts: accepted, status: res.status }).toEqual({
        documentAccepts: accepted,
        status: accepted ? 201 : 400,
      });
    });

    const updates: [string, Record<string, unknown>][] = [
      ['nothing', {}],
      ['a null name (clears it)', { name: null }],
      ['a padded name', { name: ' Ada ' }],
      ['a blank name', { name: '  ' }],
      ['a null email', { email: null }],
      ['an unknown field', { role: 'admin' }],
    ];

    it.each(updates)('PATCH /users/me with %s', async (_label, body) => {
      const user = await signUp(t);
      const accepted = validator.acceptsRequestBody('patch', '/api/v1/users/me', body);
      const res = await t.http
        .patch('/api/v1/users/me')
        .set('Authorization', bearer(user.accessToken))
        .send(body);
      expect({ documentAccepts: accepted, status: res.status }).toEqual({
        documentAccepts: accepted,
        status: accepted ? 200 : 400,
      });
    });

    const signUps: [string, Record<string, unknown>][] = [
      ['a valid body', {}],
      ['a 7-character password', { password: 'x'.repeat(7) }],
      ['a 129-character password', { password: 'x'.repeat(129) }],
      ['a 128-character password', { password: 'x'.repeat(128) }],
      ['not an email', { email: 'not-an-email' }],
      ['a blank name', { name: ' ' }],
      ['a null name', { name: null }],
      ['an empty invite token', { inviteToken: '' }],
      ['a null invite token', { inviteToken: null }],
      ['a 2049-character invite token', { inviteToken: 'x'.repeat(2049) }],
      ['an unknown field', { role: 'admin' }],
    ];

    it.each(signUps)('POST /auth/sign-up with %s', async (_label, patch) => {
      const body = { email: uniqueEmail(), password: 'correct horse battery staple', ...patch };
      const accepted = validator.acceptsRequestBody('post', '/api/v1/auth/sign-up', body);
      const res = await t.http.post('/api/v1/auth/sign-up').send(body);
      expect({ documentAccepts: accepted, status: res.status }).toEqual({
        documentAccepts: accepted,
        status: accepted ? 201 : 400,
      });
      // A null invite token passes validation and fails as a token: refused either way.
      if (!accepted)
        expect(['request.invalid', 'invitation.invalid_token']).toContain(res.body.code);
    });
  });

  describe('the error contract, complete (#31 item 5)', () => {
    /** Every schema object in `node`, however deep (components, parameters, headers, bodies). */
    function schemas(node: unknown, path = ''): { path: string; schema: DocumentSchema }[] {
      if (typeof node !== 'object' || node === null) return [];
      const here = (node as DocumentSchema).type === 'integer' ? [{ path, schema: node }] : [];
      return [
        ...(here as { path: string; schema: DocumentSchema }[]),
        ...Object.entries(node).flatMap(([key, value]) => schemas(value, `${path}/${key}`)),
      ];
    }

    it('documents the 500 `internal` in the error shape on every operation', () => {
      const all = operations(doc);
      expect(all.length).toBeGreaterThan(50);
      for (const { key, op } of all) {
        expect({ key, codes: codes(op, 500) }).toEqual({ key, codes: ['internal'] });
      }
    });

    it('documents the body errors (400/413/415) on every operation a body can be sent to', () => {
      for (const { key, op } of operations(doc)) {
        if (!/^(POST|PUT|PATCH|DELETE) /.test(key)) continue;
        expect({ key, codes: codes(op, 415) }).toEqual({
          key,
          codes: ['request.unsupported_charset', 'request.unsupported_media_type'],
        });
        expect({ key, codes: codes(op, 413) }).toEqual({ key, codes: ['request.too_large'] });
        expect({ key, codes: codes(op, 400) }).toEqual({
          key,
          codes: expect.arrayContaining(['request.malformed_json', 'request.too_deep']),
        });
        // JSON only: a form body is refused (415) like any other type.
        const body = op.requestBody as { content: Record<string, unknown> } | undefined;
        if (body !== undefined) {
          expect({ key, types: Object.keys(body.content) }).toEqual({
            key,
            types: ['application/json'],
          });
        }
      }
    });

    it('declares every tag its operations use, each with a description', () => {
      const used = [...new Set(operations(doc).flatMap(({ op }) => op.tags ?? []))].sort();
      expect(used.length).toBeGreaterThan(5);
      const declared = Object.fromEntries(
        (doc.tags ?? []).map((tag) => [tag.name, tag.description ?? '']),
      );
      for (const name of used) {
        expect({ name, described: (declared[name]?.length ?? 0) > 10 }).toEqual({
          name,
          described: true,
        });
      }
      expect(Object.keys(declared).sort()).toEqual(used);
    });

    it('gives every integer a format: int32 for ids and counts, int64 for Stripe amounts', () => {
      const integers = schemas(doc);
      expect(integers.length).toBeGreaterThan(30);
      for (const { path, schema } of integers) {
        expect({ path, format: schema.format }).toEqual({
          path,
          format: expect.stringMatching(/^int(32|64)$/),
        });
      }
      const plan = doc.components!.schemas!.PlanDto as DocumentSchema;
      expect(plan.properties!.amount!.format).toBe('int64');
      const me = doc.components!.schemas!.MeDto as DocumentSchema;
      expect(me.properties!.id!.format).toBe('int32');
      const teamId = (
        doc.paths['/api/v1/teams/{teamId}']!.get!.parameters as ParameterObject[]
      )[0]!;
      expect(teamId.schema).toMatchObject({ type: 'integer', format: 'int32' });
    });

    it('describes the metrics token as an opaque bearer token, not a JWT', () => {
      expect(doc.components!.securitySchemes!.metrics).toEqual({
        type: 'http',
        scheme: 'bearer',
        description: expect.stringContaining('METRICS_TOKEN'),
      });
    });

    it('documents RateLimit-Policy and RateLimit on the success and the 429 of every @RateLimit operation', () => {
      const limited = [
        'POST /api/v1/auth/sign-up',
        'POST /api/v1/auth/sign-in/mfa',
        'POST /api/v1/auth/verify-email',
        'POST /api/v1/auth/verify-email/resend',
        'POST /api/v1/auth/password-reset',
        'POST /api/v1/auth/password-reset/confirm',
        'PATCH /api/v1/users/me',
        'PUT /api/v1/users/me/password',
        'DELETE /api/v1/users/me',
        'POST /api/v1/users/me/mfa/totp',
        'DELETE /api/v1/users/me/mfa/totp',
        'POST /api/v1/users/me/mfa/recovery-codes',
        'GET /api/v1/auth/oidc/{provider}/authorize',
        'POST /api/v1/auth/oidc/exchange',
        'GET /api/v1/billing/checkout/success',
      ];
      const byKey = new Map(operations(doc).map(({ key, op }) => [key, op]));
      for (const key of limited) {
        const op = byKey.get(key);
        expect({ key, documented: op !== undefined }).toEqual({ key, documented: true });
        const statuses = Object.keys(op!.responses).filter((s) => /^[23]/.test(s) || s === '429');
        expect(statuses).toContain('429');
        for (const status of statuses) {
          const headers = (op!.responses[status] as ErrorResponseObject).headers ?? {};
          expect({ key, status, headers: Object.keys(headers) }).toEqual({
            key,
            status,
            headers: expect.arrayContaining(['RateLimit-Policy', 'RateLimit']),
          });
        }
      }
      // Operations without @RateLimit do not claim the headers.
      const signIn = byKey.get('POST /api/v1/auth/sign-in')!;
      expect(
        Object.keys((signIn.responses['200'] as ErrorResponseObject).headers ?? {}),
      ).not.toContain('RateLimit');
    });
  });

  it('a body over the limit gets the documented 413 (checked by the agent against the document)', async () => {
    const res = await t.http
      .post('/api/v1/auth/sign-in')
      .send({ email: 'a@example.test', password: 'x'.repeat(200_000) })
      .expect(413);
    expect(res.body.code).toBe('request.too_large');
  });

  it('a body in an unsupported charset gets the documented 415', async () => {
    const res = await t.http
      .post('/api/v1/auth/sign-in')
      .set('Content-Type', 'application/json; charset=latin1')
      .send(JSON.stringify({ email: 'a@example.test', password: 'x' }))
      .expect(415);
    expect(res.body.code).toBe('request.unsupported_media_type');
  });

  it('malformed JSON gets the documented 400 `request.malformed_json`, also on the webhook', async () => {
    for (const path of ['/api/v1/auth/sign-in', '/api/v1/billing/webhook']) {
      const res = await t.http
        .post(path)
        .set('Content-Type', 'application/json')
        .send('{"email":')
        .expect(400);
      expect({ path, code: res.body.code }).toEqual({ path, code: 'request.malformed_json' });
    }
  });
});
