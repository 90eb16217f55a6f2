/**
 * Cuts the encrypted blob stream into the parts of a multipart upload, holding one part in
 * memory at a time (docs/SDK.md §Attachments, "Memory"): the encryptor produces the blob chunk
 * by chunk, and the next part is read only when the previous one was uploaded.
 */
import { ArgumentRangeError } from '../../util/argument-errors.ts';

const SIZE_MISMATCH = 'the attachment data does not have its declared size';

/** Reads consecutive parts of a stream of known total size. */
export class PartReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private pending: Uint8Array | undefined;
  private consumed = 0;
  private finished = false;

  constructor(
    stream: ReadableStream<Uint8Array>,
    private readonly total: number,
  ) {
    this.reader = stream.getReader();
  }

  /** Bytes handed out so far. */
  get position(): number {
    return this.consumed;
  }

  /**
   * The next `length` bytes (a fresh array the caller owns).
   *
   * @throws {ArgumentRangeError} if the stream ends early (the data was shorter than its size).
   * @throws whatever the stream errors with (the encryptor's own errors).
   */
  async next(length: number): Promise<Uint8Array<ArrayBuffer>> {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      let chunk = this.pending;
      this.pending = undefined;
      if (!chunk) {
        const read = await this.reader.read();
        if (read.done) throw new ArgumentRangeError(SIZE_MISMATCH);
        chunk = read.value;
      }
      const take = Math.min(length - filled, chunk.length);
      out.set(chunk.subarray(0, take), filled);
      filled += take;
      if (take < chunk.length) this.pending = chunk.subarray(take);
    }
    this.consumed += length;
    return out;
  }

  /**
   * Checks that the stream ends exactly at the total and releases it.
   *
   * @throws {ArgumentRangeError} if more bytes follow (the data was longer than its size).
   */
  async finish(): Promise<void> {
    if (this.consumed !== this.total || this.pending?.length) {
      throw new ArgumentRangeError(SIZE_MISMATCH);
    }
    for (;;) {
      const read = await this.reader.read();
      if (read.done) break;
      if (read.value.length > 0) throw new ArgumentRangeError(SIZE_MISMATCH);
    }
    this.finished = true;
    this.reader.releaseLock();
  }

  /** Stops reading (an upload that failed or was aborted): the encryptor stops too. */
  async cancel(reason?: unknown): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.reader.cancel(reason).catch(() => undefined);
  }
}
