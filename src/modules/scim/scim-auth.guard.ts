import {
  createParamDecorator,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { clientIp } from '../../common/http/client-ip.js';
import type { HttpRequest } from '../../common/http/http-request.js';
import { SCIM_TOKEN_MARKER } from './scim-token.js';
import { ScimTokensService, type ScimClient } from './scim-tokens.service.js';
import { ScimErrors } from './scim.errors.js';

type ScimRequest = HttpRequest & { scimClient?: ScimClient };

/**
 * The SCIM service's authentication: `Authorization: Bearer scim_…`, a live token of a team
 * (its directory). Anything else (no header, a JWT, an API key, a revoked token) is the same
 * 401 SCIM error. Each request counts against the token's rate limit (429 with Retry-After).
 * The SCIM controller is `@Public()` for the global guard (it knows JWTs and API keys only)
 * and carries this guard instead, so nothing under /scim/v2 is reachable without a token.
 */
@Injectable()
export class ScimAuthGuard implements CanActivate {
  constructor(private readonly tokens: ScimTokensService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<ScimRequest>();
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    const token = match?.[1];
    if (token === undefined || !token.startsWith(SCIM_TOKEN_MARKER)) {
      throw ScimErrors.unauthorized();
    }
    const client = await this.tokens.authenticate(token, clientIp(request));
    if (client === undefined) throw ScimErrors.unauthorized();
    request.scimClient = client;
    return true;
  }
}

/** The directory calling (set by ScimAuthGuard). */
export const CurrentScimClient = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): ScimClient => {
    const request = ctx.switchToHttp().getRequest<ScimRequest>();
    if (!request.scimClient) throw new Error('CurrentScimClient used without ScimAuthGuard');
    return request.scimClient;
  },
);
