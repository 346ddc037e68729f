/**
 * Swagger property options for a string the DTO trims before checking 1..`max` characters:
 * the raw value may carry surrounding whitespace, so the rule is a pattern on what is left
 * after trimming (`\s` is the set String.prototype.trim removes), not a plain maxLength.
 */
export function trimmedText(max: number): {
  minLength: number;
  pattern: string;
  description: string;
} {
  return {
    minLength: 1,
    pattern: `^\\s*\\S(?:[\\s\\S]{0,${max - 2}}\\S)?\\s*$`,
    description: `Trimmed; 1..${max} characters after trimming`,
  };
}

/** Swagger options of an email the DTO trims and lower-cases before checking it. */
export const EMAIL_PROPERTY = {
  format: 'email',
  maxLength: 255,
  example: 'ada@example.com',
  description:
    'Normalised (Unicode NFKC: a fullwidth form is the plain address), trimmed and lower-cased; refused (400) with invisible format or control characters; at most 255 characters.',
} as const;
