import { Transform } from 'class-transformer';

/**
 * Emails are compared and stored trimmed and lower-cased: sign-up, sign-in, the rate limiter's
 * per-email keys, invitations and the admin panel all go through this one rule.
 */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** DTO property decorator: normalizes a string email before validation. */
export function NormalizeEmail(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? normalizeEmail(value) : value,
  );
}
