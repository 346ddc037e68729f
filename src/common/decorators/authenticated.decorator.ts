import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '../errors/error-response.dto.js';

/** The 403 every authenticated route may give under EMAIL_VERIFICATION=required. */
export const EMAIL_UNVERIFIED_403 =
  '`email.unverified`: only with EMAIL_VERIFICATION=required, when my email is not verified (such a user may only call GET /users/me, POST /auth/verify-email/resend and POST /auth/sign-out)';

/**
 * Documents what the global default-deny guard enforces on every route that is not
 * @Public(): a bearer access token, and 401 without a valid one (and, with
 * EMAIL_VERIFICATION=required, 403 for unverified users). Swagger joins the descriptions of
 * several 403s declared on one method (e.g. by @TeamRole), but a method's own 403 replaces a
 * class-level one: such a method mentions `email.unverified` itself.
 */
export const Authenticated = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    ApiBearerAuth(),
    ApiUnauthorizedResponse({
      type: ErrorResponseDto,
      description: 'Missing, invalid, expired or revoked access token (`auth.unauthorized`)',
    }),
    ApiForbiddenResponse({ type: ErrorResponseDto, description: EMAIL_UNVERIFIED_403 }),
  );
