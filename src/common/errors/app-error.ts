import { HttpStatus } from '@nestjs/common';

export interface ErrorDetail {
  /** The input field the detail is about (dotted path), when there is one. */
  field?: string;
  message: string;
  /** `plan.limit_reached`: the limit (product-metadata key), its value and what is used. */
  limit?: string;
  max?: number;
  used?: number;
  /** `plan.feature_required`: the entitlement lookup key the route needs. */
  feature?: string;
  /** `auth.sso_required`: where the browser starts the team's SAML sign-in. */
  ssoUrl?: string;
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

/** One entry of a module's error catalogue: what `@ApiErrors()` documents. */
export interface ErrorDefinition {
  readonly code: string;
  readonly status: HttpStatus;
  readonly message: string;
}

/** Builds the AppError of one catalogue entry; carries the entry so Swagger can document it. */
export type ErrorFactory<D extends ErrorDefinition = ErrorDefinition> = ((
  message?: string,
  details?: ErrorDetail[],
) => AppError) &
  Readonly<D>;

/** Declares a module's errors in one place: `const TeamErrors = defineErrors({ ... })`. */
export function defineErrors<const T extends Record<string, ErrorDefinition>>(
  defs: T,
): { [K in keyof T]: ErrorFactory<T[K]> } & {
  readonly codes: { [K in keyof T]: T[K]['code'] };
} {
  const factories: Record<string, unknown> = {};
  const codes: Record<string, string> = {};
  for (const [key, def] of Object.entries(defs)) {
    const factory = (message?: string, details?: ErrorDetail[]) =>
      new AppError(def.code, def.status, message ?? def.message, details);
    factories[key] = Object.assign(factory, {
      code: def.code,
      status: def.status,
      message: def.message,
    });
    codes[key] = def.code;
  }
  factories.codes = codes;
  return factories as never;
}
