import { HttpStatus } from '@nestjs/common';

export interface ErrorDetail {
  /** The input field the detail is about (dotted path), when there is one. */
  field?: string;
  message: string;
}

/**
 * A domain error with a stable dotted code (`team.last_owner`), an HTTP status and a message
 * safe to show to clients. Services throw these; the global filter renders them.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: HttpStatus,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** Declares a module's errors in one place: `const TeamErrors = defineErrors({ ... })`. */
export function defineErrors<
  const T extends Record<string, { code: string; status: HttpStatus; message: string }>,
>(
  defs: T,
): { [K in keyof T]: (message?: string, details?: ErrorDetail[]) => AppError } & {
  readonly codes: { [K in keyof T]: T[K]['code'] };
} {
  const factories: Record<string, unknown> = {};
  const codes: Record<string, string> = {};
  for (const [key, def] of Object.entries(defs)) {
    factories[key] = (message?: string, details?: ErrorDetail[]) =>
      new AppError(def.code, def.status, message ?? def.message, details);
    codes[key] = def.code;
  }
  factories.codes = codes;
  return factories as never;
}
