import { Body, Controller, Get, Header, HttpStatus, Post, Query, Redirect } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiConsumes, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ClientIp } from '../../common/decorators/client-ip.decorator.js';
import { Public } from '../../common/decorators/public.decorator.js';
import { UserAgent } from '../../common/decorators/user-agent.decorator.js';
import { FORM_BODY_ROUTE } from '../../common/http/body-parsers.js';
import { AcceptLanguage } from '../../common/i18n/accept-language.decorator.js';
import type { Locale } from '../../common/i18n/locales.js';
import { ApiErrors } from '../../common/openapi/api-errors.decorator.js';
import { ApiIdParam } from '../../common/openapi/api-id-param.decorator.js';
import { RateLimit } from '../../common/rate-limit/rate-limit.guard.js';
import { SAML_REQUEST_TTL_MS } from './saml-sp.js';
import { SamlService } from './saml.service.js';
import { SsoStartQueryDto } from './sso.dto.js';
import { SAML_ACS_ERROR_DOCS, SsoErrors } from './sso.errors.js';
import { IdParam } from '../../common/http/parse-id.pipe.js';

const LOCATION = (description: string) => ({
  Location: { description, required: true, schema: { type: 'string', format: 'uri' } },
});

const ACS_ERRORS = Object.entries(SAML_ACS_ERROR_DOCS)
  .map(([code, meaning]) => `- \`${code}\`: ${meaning}`)
  .join('\n');

@ApiTags('auth')
@Controller('auth')
export class SamlController {
  constructor(private readonly saml: SamlService) {}

  @Get('sso')
  @Public()
  @Redirect()
  @RateLimit('oidc-authorize')
  @ApiOperation({
    summary: 'Start an enterprise (SAML) sign-in for an email address (browser navigation)',
    description: `When a team verified the email's domain and has an enabled SAML connection, answers 302 to its IdP with an AuthnRequest (HTTP-Redirect binding, unsigned, NameID format emailAddress, \`RelayState\`); the IdP must answer it within ${SAML_REQUEST_TTL_MS / 60_000} minutes, once. Else 404 \`sso.not_configured\`. Throttled per client IP with the OpenID Connect authorize budget (RATE_LIMIT_PER_IP).`,
  })
  @ApiResponse({
    status: HttpStatus.FOUND,
    description: "Redirect to the team's identity provider",
    headers: LOCATION("The IdP's SSO URL with SAMLRequest and RelayState"),
  })
  @ApiErrors(SsoErrors.notConfigured)
  async start(@Query() query: SsoStartQueryDto): Promise<{ url: string; statusCode: number }> {
    return { url: await this.saml.start(query.email), statusCode: HttpStatus.FOUND };
  }

  @Get('saml/:connectionId/metadata')
  @Public()
  @Header('Content-Type', 'application/samlmetadata+xml; charset=utf-8')
  @ApiIdParam('connectionId', 'SSO connection id')
  @ApiOperation({
    summary: "Our SAML SP metadata for a connection (for the IdP's import)",
    description:
      'The entity id, the ACS URL with the HTTP-POST binding, NameID format emailAddress and `WantAssertionsSigned="true"`.',
  })
  @ApiOkResponse({
    description: 'SP metadata XML',
    content: { 'application/samlmetadata+xml': { schema: { type: 'string' } } },
  })
  @ApiErrors(SsoErrors.notFound)
  metadata(@IdParam('connectionId') connectionId: number): Promise<string> {
    return this.saml.metadata(connectionId);
  }

  @Post('saml/:connectionId/acs')
  @Public()
  @Redirect()
  @RouteConfig(FORM_BODY_ROUTE)
  @ApiIdParam('connectionId', 'SSO connection id')
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiOperation({
    summary: 'Assertion Consumer Service: the IdP posts its SAML response here (browser form post)',
    description: [
      'Form fields `SAMLResponse` (base64) and `RelayState`. The response is accepted only if the assertion or the whole response is signed',
      "(XML-DSig with RSA-SHA256 or RSA-SHA512, SHA-1 refused; checked by node-saml/xml-crypto) by the connection's certificate, with exactly one assertion (no wrapping), `Issuer` = the IdP entity id,",
      '`Audience` = our entity id, `Recipient` and `Destination` = this URL, `InResponseTo` = a request GET /auth/sso issued in the last 10 minutes',
      '(each answered once; unsolicited responses are refused), `NotBefore`/`NotOnOrAfter` holding (2 minutes of skew), an assertion id never',
      "accepted before, and a NameID email in one of the team's verified domains. Then the user with that email signs in (linked; an unverified",
      'address becomes verified and what was set up in the account before is removed, as after a password reset), or a user is created (email',
      'verified, no usable password; SIGN_UP); either way they become a `member` of the team if not yet one (plan limits apply). Answers 303 to',
      '`APP_URL/auth/callback?code=<one-time code>`, redeemed through POST /auth/oidc/exchange exactly as after an OpenID Connect sign-in (MFA,',
      `SIGN_IN), or to \`APP_URL/auth/callback?error=<code>\` with one of:\n\n${ACS_ERRORS}`,
    ].join(' '),
  })
  @ApiResponse({
    status: HttpStatus.SEE_OTHER,
    description: 'Redirect to the frontend: `APP_URL/auth/callback?code=…` or `?error=…`',
    headers: LOCATION('The frontend callback URL'),
  })
  async acs(
    @IdParam('connectionId') connectionId: number,
    // A plain record: the IdP's form, read by the service (unknown fields are the IdP's business).
    @Body() body: Record<string, unknown> | undefined,
    @ClientIp() ip: string | null,
    @AcceptLanguage() locale: Locale | undefined,
    @UserAgent() userAgent?: string,
  ): Promise<{ url: string; statusCode: number }> {
    const url = await this.saml.acs(connectionId, body, { ip, userAgent, locale });
    return { url, statusCode: HttpStatus.SEE_OTHER };
  }
}
