/**
 * Progress reports of a transfer (docs/SDK.md §Attachments, "Progress"): monotonic, ending at
 * the total, and never able to break the transfer whatever the app's callback does.
 */
import { ArgumentTypeError } from '../../util/argument-errors.ts';
import type { TransferProgress } from './types.ts';

/**
 * Checks a progress option.
 *
 * @throws {ArgumentTypeError} unless `value` is a function or undefined.
 * @example checkProgress(options.onProgress);
 */
export function checkProgress(value: unknown): TransferProgress | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new ArgumentTypeError('onProgress must be a function');
  }
  return value as TransferProgress | undefined;
}

/** Counts transferred bytes toward a total and tells the app. */
export class Progress {
  private sent = 0;
  private readonly listener: TransferProgress | undefined;

  /** @throws {ArgumentTypeError} if `listener` is not a function. */
  constructor(
    readonly total: number,
    listener: unknown,
  ) {
    this.listener = checkProgress(listener);
  }

  /** Bytes counted so far. */
  get done(): number {
    return this.sent;
  }

  /** Counts `bytes` more (never past the total) and reports. */
  advance(bytes: number): void {
    if (bytes <= 0) return;
    this.sent = Math.min(this.total, this.sent + bytes);
    this.tell();
  }

  /** Reports the total once, if it was not reached by {@link advance}. */
  end(): void {
    if (this.sent >= this.total) return;
    this.sent = this.total;
    this.tell();
  }

  private tell(): void {
    if (!this.listener) return;
    try {
      const result: unknown = this.listener(this.sent, this.total);
      if (result instanceof Promise) result.catch(() => undefined);
    } catch {
      // The app's observer must not break a transfer.
    }
  }
}
