/**
 * Reads exact-size pieces out of a stream of byte pieces of any size: the file an app hands to
 * the encryptor (a `File.stream()`, a Node file stream) and the blob a download delivers. Holds
 * at most the one input piece it is consuming; the caller owns the buffers it fills. Where one
 * input piece holds all the bytes asked for, `read` returns a view of it instead of copying.
 */
import { ArgumentTypeError } from '../util/argument-errors.ts';

/** What the attachment functions read from: a web stream or any async iterable of bytes. */
export type ByteStream = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

interface Pieces {
  next(): Promise<Uint8Array | undefined>;
  cancel(reason: unknown): Promise<void>;
}

function isReadableStream(value: unknown): value is ReadableStream<Uint8Array> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ReadableStream).getReader === 'function'
  );
}

function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function'
  );
}

/**
 * The pieces of a stream. A reader, not `for await`, for web streams: Safari's have no async
 * iterator. Started lazily, so a stream nobody reads is never locked.
 */
function pieces(source: ByteStream, name: string): Pieces {
  let next:
    | (() => Promise<IteratorResult<Uint8Array> | ReadableStreamReadResult<Uint8Array>>)
    | undefined;
  let stop: (reason: unknown) => Promise<unknown> = async () => undefined;
  let finished = false;
  const begin = () => {
    if (isReadableStream(source)) {
      let reader: ReadableStreamDefaultReader<Uint8Array>;
      try {
        reader = source.getReader();
      } catch (cause) {
        throw new ArgumentTypeError(`${name} is locked by another reader`, { cause });
      }
      next = async () => {
        const result = await reader.read();
        if (result.done) reader.releaseLock();
        return result;
      };
      stop = (reason) => reader.cancel(reason);
    } else {
      const iterator = source[Symbol.asyncIterator]();
      next = () => iterator.next();
      stop = async () => iterator.return?.();
    }
  };
  return {
    async next() {
      if (finished) return undefined;
      if (next === undefined) begin();
      const result = await next!();
      if (result.done) {
        finished = true;
        return undefined;
      }
      if (!(result.value instanceof Uint8Array)) {
        throw new ArgumentTypeError(`${name} must yield Uint8Array pieces`);
      }
      return result.value;
    },
    async cancel(reason) {
      if (finished) return;
      finished = true;
      try {
        if (next === undefined) begin();
        await stop(reason);
      } catch {
        // The source's own failure to stop (a stream locked elsewhere, a throwing iterator)
        // must not hide the error that stopped it.
      }
    },
  };
}

/**
 * Copies a byte stream into caller-sized buffers, whatever the sizes of its pieces.
 *
 * @example
 * ```ts
 * const reader = new ExactReader(file.stream(), 'source');
 * const got = await reader.fill(buffer); // < buffer.length only at the end of the stream
 * ```
 */
export class ExactReader {
  private readonly source: Pieces;
  private piece: Uint8Array | undefined;
  private offset = 0;

  /** @throws {ArgumentTypeError} unless `source` is a `ReadableStream` or an async iterable */
  constructor(source: ByteStream, name: string) {
    if (!isReadableStream(source) && !isAsyncIterable(source)) {
      throw new ArgumentTypeError(`${name} must be a ReadableStream or an async iterable`);
    }
    this.source = pieces(source, name);
  }

  /** The next unread byte's piece, or undefined at the end of the stream. */
  private async current(): Promise<Uint8Array | undefined> {
    while (this.piece === undefined || this.offset === this.piece.length) {
      this.piece = await this.source.next();
      this.offset = 0;
      if (this.piece === undefined) return undefined;
    }
    return this.piece;
  }

  /** Fills `target` from the stream; returns the bytes copied, less than its size only at the end. */
  async fill(target: Uint8Array): Promise<number> {
    let filled = 0;
    while (filled < target.length) {
      const piece = await this.current();
      if (piece === undefined) break;
      const take = Math.min(target.length - filled, piece.length - this.offset);
      target.set(piece.subarray(this.offset, this.offset + take), filled);
      this.offset += take;
      filled += take;
    }
    return filled;
  }

  /**
   * The next `scratch.length` bytes, fewer only at the end of the stream: a view of the current
   * input piece when that piece holds them all (no copy), otherwise copied into `scratch`. A
   * view belongs to the source; the caller uses it before its next read and never writes to it.
   *
   * @example const sealed = await reader.read(buffer.subarray(0, length));
   */
  async read(scratch: Uint8Array): Promise<Uint8Array> {
    if (scratch.length === 0) return scratch;
    const piece = await this.current();
    if (piece !== undefined && piece.length - this.offset >= scratch.length) {
      const view = piece.subarray(this.offset, this.offset + scratch.length);
      this.offset += scratch.length;
      return view;
    }
    return scratch.subarray(0, await this.fill(scratch));
  }

  /** Whether any byte is left (empty pieces do not count). */
  async hasMore(): Promise<boolean> {
    return (await this.current()) !== undefined;
  }

  /** Stops the stream (cancels it or returns its iterator); never throws. */
  cancel(reason: unknown): Promise<void> {
    this.piece = undefined;
    return this.source.cancel(reason);
  }
}
