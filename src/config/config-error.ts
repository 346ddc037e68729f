/** A configuration variable that is missing or malformed: the app refuses to start and says which. */
export class ConfigValidationError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`Invalid configuration: ${variable} ${reason}`);
    this.name = 'ConfigValidationError';
  }
}
