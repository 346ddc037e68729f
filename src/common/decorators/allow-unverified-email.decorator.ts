import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';

export const ALLOW_UNVERIFIED_EMAIL_KEY = 'allowUnverifiedEmail';
/**
 * Marks the operation in the generated document, so the finalizer documents the 403
 * `email.unverified` on every other authenticated operation (and removes the mark).
 */
export const ALLOW_UNVERIFIED_EMAIL_EXTENSION = 'x-allow-unverified-email';

/**
 * Lets a signed-in user whose email is not verified reach the route even with
 * EMAIL_VERIFICATION=required, where the global auth guard otherwise answers 403
 * `email.unverified`. Only for what such a user needs to get verified or leave: reading
 * their account, asking for a new link, signing out.
 */
export const AllowUnverifiedEmail = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(ALLOW_UNVERIFIED_EMAIL_KEY, true),
    ApiExtension(ALLOW_UNVERIFIED_EMAIL_EXTENSION, true),
  );
