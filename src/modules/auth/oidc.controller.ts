import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Redirect,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ClientIp } from '../../common/decorators/client-ip.decorator.js';
import { Public } from '../../common/decorators/public.decorator.js';
import { UserAgent } from '../../common/decorators/user-agent.decorator.js';
import { AcceptLanguage } from '../../common/i18n/accept-language.decorator.js';
import type { Locale } from '../../common/i18n/locales.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { RateLimit } from '../../common/rate-limit/rate-limit.guard.js';
import { AUDIT_TEAM_RULE } from '../audit/audit-policy.js';
import { SignInResponseDto } from './auth.dto.js';
import { MfaRequiredDto } from './mfa.dto.js';
import { OIDC_ROUTES_PATH } from './oidc.client.js';
import { OidcExchangeDto, OidcProviderDto } from './oidc.dto.js';
import { OIDC_CALLBACK_ERROR_DOCS, OidcErrors } from './oidc.errors.js';
import { OIDC_EXCHANGE_CODE_TTL_MS, OIDC_FLOW_TTL_MS, OidcService } from './oidc.service.js';

/** Holds `<flowId>.<secret>` from authorize to callback, on this provider's path only. */
const FLOW_COOKIE = 'oidc_flow';

const PROVIDER_PARAM = ApiParam({
  name: 'provider',
  description: 'A provider id from GET /auth/providers',
  schema: { type: 'string', example: 'google' },
});

const LOCATION = (description: string) => ({
  Location: { description, required: true, schema: { type: 'string', format: 'uri' } },
});

const CALLBACK_ERRORS = Object.entries(OIDC_CALLBACK_ERROR_DOCS)
  .map(([code, meaning]) => `- \`${code}\`: ${meaning}`)
  .join('\n');

@ApiTags('auth')
@Controller('auth')
export class OidcController {
  constructor(private readonly oidc: OidcService) {}

  @Get('providers')
  @Public()
  @ApiOperation({
    summary: 'OpenID Connect providers to offer as sign-in buttons',
    description:
      'The providers configured in OIDC_PROVIDERS, in that order; empty when none is. Start a sign-in by sending the browser to GET /auth/oidc/{id}/authorize.',
  })
  @ApiOkResponse({ type: OidcProviderDto, isArray: true })
  providers(): OidcProviderDto[] {
    return this.oidc.listProviders();
  }

  @Get('oidc/:provider/authorize')
  @Public()
  @Redirect()
  @RateLimit('oidc-authorize')
  @PROVIDER_PARAM
  @ApiOperation({
    summary: 'Start an OpenID Connect sign-in (browser navigation)',
    description: [
      "Answers 302 to the provider's authorization endpoint (authorization-code flow, PKCE S256, `state`, `nonce`, scopes `openid email profile`,",
      'redirect URI `<API_URL>/api/v1/auth/oidc/{provider}/callback`) and sets an HttpOnly, SameSite=Lax cookie that binds the sign-in to this browser',
      `for ${OIDC_FLOW_TTL_MS / 60_000} minutes; a newer sign-in with the same provider in the same browser replaces it.`,
      'When the provider cannot be reached (discovery fails), the 302 goes to `APP_URL/auth/callback?error=oidc.provider_unavailable` instead.',
      'Throttled per client IP (RATE_LIMIT_PER_IP per RATE_LIMIT_WINDOW seconds).',
    ].join(' '),
  })
  @ApiResponse({
    status: HttpStatus.FOUND,
    description: "Redirect to the provider's authorization endpoint",
    headers: {
      ...LOCATION("The provider's authorization URL"),
      'Set-Cookie': {
        description:
          '`oidc_flow=…; Path=/api/v1/auth/oidc/{provider}/; HttpOnly; SameSite=Lax` (Secure when API_URL is https), binding the sign-in to this browser; absent on the oidc.provider_unavailable redirect',
        required: false,
        schema: { type: 'string' },
      },
    },
  })
  @ApiErrors(OidcErrors.unknownProvider)
  async authorize(
    @Param('provider') provider: string,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<{ url: string; statusCode: number }> {
    const { url, cookie } = await this.oidc.authorize(provider);
    if (cookie !== undefined) {
      void res.header(
        'Set-Cookie',
        serializeCookie(FLOW_COOKIE, cookie.value, {
          ...this.cookieOptions(provider),
          maxAge: Math.floor(cookie.maxAgeMs / 1000),
          expires: new Date(Date.now() + cookie.maxAgeMs),
        }),
      );
    }
    return { url, statusCode: HttpStatus.FOUND };
  }

  @Get('oidc/:provider/callback')
  @Public()
  @Redirect()
  @PROVIDER_PARAM
  @ApiQuery({ name: 'code', required: false, description: 'From the provider' })
  @ApiQuery({ name: 'state', required: false, description: 'From the provider' })
  @ApiQuery({ name: 'error', required: false, description: 'From the provider, on failure' })
  @ApiOperation({
    summary: "The provider's redirect back after an OpenID Connect sign-in",
    description: [
      'The redirect URI to register at the provider. Needs the cookie set by authorize in this browser (a callback URL replayed elsewhere fails)',
      'and uses the started sign-in once. Checks `state`, redeems the code with the PKCE verifier and validates the ID token (JWKS signature,',
      '`iss`, `aud`, `exp`, `nonce`). Then: a known identity (issuer + `sub`) signs in as its user; an unknown one is linked to the active user',
      "with that email only when the provider says `email_verified` and that user's email is verified; otherwise, with no account on that email,",
      'a new user is created with their own team (SIGN_UP + CREATE_TEAM; the email counts as verified when the provider vouches for it, else a',
      'verification link is mailed; no usable password until a reset). Answers 303 to `APP_URL/auth/callback?code=<one-time code>` (redeem it with',
      `POST /auth/oidc/exchange within ${OIDC_EXCHANGE_CODE_TTL_MS / 1000} seconds), or to \`APP_URL/auth/callback?error=<code>\` with one of:\n\n${CALLBACK_ERRORS}`,
    ].join(' '),
  })
  @ApiResponse({
    status: HttpStatus.SEE_OTHER,
    description: 'Redirect to the frontend: `APP_URL/auth/callback?code=…` or `?error=…`',
    headers: LOCATION('The frontend callback URL'),
  })
  @ApiErrors(OidcErrors.unknownProvider)
  async callback(
    @Param('provider') provider: string,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) res: FastifyReply,
    @ClientIp() ip: string | null,
    @AcceptLanguage() locale: Locale | undefined,
    @UserAgent() userAgent?: string,
  ): Promise<{ url: string; statusCode: number }> {
    // Raw parameters: providers add their own (iss, scope, session_state, authuser, …).
    const query = new URL(req.originalUrl, 'http://callback.invalid').searchParams;
    const flow = parseCookies(req.headers.cookie ?? '')[FLOW_COOKIE];
    const url = await this.oidc.callback(provider, query, flow, { ip, userAgent, locale });
    // Cleared as Express's res.clearCookie did: empty, expired at the epoch.
    void res.header(
      'Set-Cookie',
      serializeCookie(FLOW_COOKIE, '', { ...this.cookieOptions(provider), expires: new Date(1) }),
    );
    return { url, statusCode: HttpStatus.SEE_OTHER };
  }

  @Post('oidc/exchange')
  @Public()
  @HttpCode(HttpStatus.OK)
  @RateLimit('oidc-exchange')
  @ApiOperation({
    summary: "Redeem the callback's one-time code for tokens",
    description: `For the frontend at APP_URL/auth/callback, after an OpenID Connect or a SAML sign-in: the \`code\` works once and for ${OIDC_EXCHANGE_CODE_TTL_MS / 1000} seconds. Opens a session like a password sign-in and records SIGN_IN (a user the callback just created gets a session without it: SIGN_UP was recorded). Throttled per client IP (RATE_LIMIT_TOKEN_PER_IP requests per RATE_LIMIT_WINDOW). ${AUDIT_TEAM_RULE}`,
  })
  @ApiOkResponse({
    description:
      'Signed in (tokens + user), or, for a user with MFA on, the second step (`mfaRequired`, then POST /auth/sign-in/mfa)',
    schema: {
      oneOf: [{ $ref: getSchemaPath(SignInResponseDto) }, { $ref: getSchemaPath(MfaRequiredDto) }],
    },
  })
  @ApiErrors(OidcErrors.invalidCode)
  exchange(
    @Body() dto: OidcExchangeDto,
    @ClientIp() ip: string | null,
    @UserAgent() userAgent?: string,
  ): ReturnType<OidcService['exchange']> {
    return this.oidc.exchange(dto.code, { ip, userAgent });
  }

  private cookieOptions(provider: string) {
    return {
      httpOnly: true,
      // Lax: the provider's redirect back is a top-level GET navigation from its site.
      sameSite: 'lax' as const,
      secure: this.oidc.secureCookies,
      path: `${OIDC_ROUTES_PATH}/${encodeURIComponent(provider)}/`,
    };
  }
}
