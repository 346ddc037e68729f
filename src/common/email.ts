import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsEmail, isEmail, MaxLength, ValidateBy } from 'class-validator';

/** Longest address accepted anywhere (the column and every DTO). */
export const EMAIL_MAX_LENGTH = 255;

/** White space at either end (Unicode's White_Space: not U+FEFF, which is refused instead). */
const SURROUNDING_SPACE = /^\p{White_Space}+|\p{White_Space}+$/gu;

/** Format (Cf: zero-width, bidi, soft hyphen, BOM, tags) and control (Cc) characters. */
const FORMAT_OR_CONTROL = /[\p{Cf}\p{Cc}]/u;

/**
 * The one rule every address goes through wherever it enters (sign-up, sign-in, password reset,
 * invitations, email change, the back office, OpenID Connect, the rate limiter's per-email
 * keys, the seed): NFKC first, so that a fullwidth or otherwise compatibility-encoded address
 * is the plain one it displays as, then trimmed and lower-cased as before. Format and control
 * characters are kept, for `hasFormatOrControlCharacter` to refuse.
 */
export function normalizeEmail(email: string): string {
  return email.normalize('NFKC').replace(SURROUNDING_SPACE, '').toLowerCase();
}

/**
 * Whether a (normalised) address holds a character that does not show (U+200B after
 * `test@test.com` displays as `test@test.com`) or a control character: such an address is
 * refused, never stored as an account of its own.
 */
export function hasFormatOrControlCharacter(email: string): boolean {
  return FORMAT_OR_CONTROL.test(email);
}

/**
 * An address from outside a DTO (an OpenID Connect provider's claim): its normal form when it
 * is a valid address without format or control characters, else undefined.
 */
export function parseEmail(raw: string): string | undefined {
  const email = normalizeEmail(raw);
  return email.length <= EMAIL_MAX_LENGTH && !hasFormatOrControlCharacter(email) && isEmail(email)
    ? email
    : undefined;
}

/** DTO property decorator: normalizes a string email before validation. */
export function NormalizeEmail(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? normalizeEmail(value) : value,
  );
}

/**
 * A DTO's email property: normalised (normalizeEmail), then a valid address of at most 255
 * characters without format or control characters, else a 400 on the field.
 */
export function EmailAddress(): PropertyDecorator {
  return applyDecorators(
    NormalizeEmail(),
    ValidateBy({
      name: 'noFormatOrControlCharacters',
      validator: {
        validate: (value: unknown) =>
          typeof value !== 'string' || !hasFormatOrControlCharacter(value),
        defaultMessage: () => '$property must not contain invisible (format) or control characters',
      },
    }),
    IsEmail(),
    MaxLength(EMAIL_MAX_LENGTH),
  );
}
