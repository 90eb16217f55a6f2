/**
 * Argument errors of the SDK (docs/SDK.md §Errors): a wrong type or format
 * ({@link ArgumentTypeError}) or a wrong size or value ({@link ArgumentRangeError}). Both are
 * {@link SealpostError}s with the code `INVALID_ARGUMENT`, so an app catches one root and can
 * switch on `code` alone; the message names the argument.
 */
import { SealpostError } from '../errors.ts';

/** The `code` of every argument error. */
export const INVALID_ARGUMENT = 'INVALID_ARGUMENT';

/**
 * An argument of the wrong type or format.
 *
 * @example
 * if (!(key instanceof Uint8Array)) throw new ArgumentTypeError('key must be a Uint8Array');
 */
export class ArgumentTypeError extends SealpostError<typeof INVALID_ARGUMENT> {
  constructor(message: string, options?: { cause?: unknown }) {
    super(INVALID_ARGUMENT, message, options);
  }
}

/**
 * An argument of the wrong size or outside its allowed values.
 *
 * @example
 * if (key.length !== 32) throw new ArgumentRangeError(`key must be 32 bytes, got ${key.length}`);
 */
export class ArgumentRangeError extends SealpostError<typeof INVALID_ARGUMENT> {
  constructor(message: string, options?: { cause?: unknown }) {
    super(INVALID_ARGUMENT, message, options);
  }
}
