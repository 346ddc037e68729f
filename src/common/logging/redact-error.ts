import { stdSerializers } from 'pino';

export const REDACTED = '[redacted]';

/**
 * Properties that carry the values a failed statement ran with: Drizzle's `params` (also in
 * its message), and PostgreSQL's `detail`, which repeats the offending key
 * ("Key (email)=(ann@example.com) already exists").
 */
const VALUE_PROPERTIES = ['params', 'detail'] as const;

/** Drizzle's message is "Failed query: <sql>\nparams: <values>"; keep the SQL. */
function withoutParams(message: string): string {
  const at = message.indexOf('\nparams: ');
  return at === -1 ? message : message.slice(0, at);
}

/**
 * A copy of `error` (and of the errors it wraps) that keeps what helps diagnose it (type,
 * message, SQL, stack, SQLSTATE) without the user data a failed query ran with.
 */
export function redactError(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error) || depth > 8) return error;
  const copy = Object.create(Object.getPrototypeOf(error) as object) as Error &
    Record<string, unknown>;
  for (const key of Reflect.ownKeys(error)) {
    const descriptor = Object.getOwnPropertyDescriptor(error, key);
    if (descriptor) Object.defineProperty(copy, key, descriptor);
  }
  const original = error as Error & Record<string, unknown>;
  if ('params' in original) {
    const message = withoutParams(original.message);
    Object.defineProperty(copy, 'message', { value: message, writable: true, configurable: true });
    if (typeof original.stack === 'string') {
      Object.defineProperty(copy, 'stack', {
        value: original.stack.replace(original.message, message),
        writable: true,
        configurable: true,
      });
    }
  }
  for (const key of VALUE_PROPERTIES) {
    if (copy[key] !== undefined && copy[key] !== null) copy[key] = REDACTED;
  }
  if (original.cause !== undefined) copy.cause = redactError(original.cause, depth + 1);
  if (Array.isArray(original.errors)) {
    copy.errors = (original.errors as unknown[]).map((e) => redactError(e, depth + 1));
  }
  return copy;
}

/** pino's error serializer over the redacted copy: every `err` the app logs goes through it. */
export function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  return serializeRedacted(redactError(error) as Error);
}

function serializeRedacted(error: Error): Record<string, unknown> {
  const serialized = stdSerializers.err(error) as unknown as Record<string, unknown>;
  // pino folds a cause into message and stack only; its fields (SQLSTATE, constraint) matter.
  if (error.cause instanceof Error) {
    const { stack: _stack, ...cause } = serializeRedacted(error.cause);
    serialized.cause = cause;
  }
  return serialized;
}
