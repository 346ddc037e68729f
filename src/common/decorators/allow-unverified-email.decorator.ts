import { SetMetadata } from '@nestjs/common';

export const ALLOW_UNVERIFIED_EMAIL_KEY = 'allowUnverifiedEmail';

/**
 * Lets a signed-in user whose email is not verified reach the route even with
 * EMAIL_VERIFICATION=required, where the global auth guard otherwise answers 403
 * `email.unverified`. Only for what such a user needs to get verified or leave: reading
 * their account, asking for a new link, signing out.
 */
export const AllowUnverifiedEmail = (): MethodDecorator & ClassDecorator =>
  SetMetadata(ALLOW_UNVERIFIED_EMAIL_KEY, true);
