/**
 * The one error class of the project. `code` says what went wrong in a word a program can branch on,
 * `message` says it in a sentence a person can act on, `details` carries the non-secret facts
 * (indices, request ids, lengths), and `cause` chains what a boundary caught.
 *
 * Never put a secret (key, share, partial, channel code, channel address, credential) in any of them.
 */
export class CGError extends Error {
  override readonly name = "CGError";
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, options: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }
}

/** Throws a CGError with code `INVALID_INPUT` when `condition` is false. */
export function expect(condition: unknown, where: string, expected: string, got: string): asserts condition {
  if (!condition) {
    throw new CGError("INVALID_INPUT", `${where}: expected ${expected}, got ${got}`, { details: { where } });
  }
}

/** A short, secret-free description of a value for error messages. */
export function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (typeof value === "string") return value.length > 24 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value === null) return "null";
  return typeof value;
}
