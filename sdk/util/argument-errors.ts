/**
 * Argument errors of the SDK (docs/SDK.md §Errors). A wrong argument is still a `TypeError`
 * (wrong type or format) or a `RangeError` (wrong size or value), as JavaScript callers expect,
 * and carries the stable `code` every SDK error has, so an app can switch on `code` alone.
 */

/** The `code` of every argument error. */
export const INVALID_ARGUMENT = 'INVALID_ARGUMENT';

/** An argument of the wrong type or format. */
export class ArgumentTypeError extends TypeError {
  readonly code = INVALID_ARGUMENT;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ArgumentTypeError';
  }
}

/** An argument of the wrong size or outside its allowed values. */
export class ArgumentRangeError extends RangeError {
  readonly code = INVALID_ARGUMENT;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ArgumentRangeError';
  }
}
