/**
 * A streaming reader of `multipart/form-data` bodies (RFC 7578) for the object service's
 * presigned form posts: small fields are read into strings under a byte budget, the file part
 * is handed on as a stream of chunks while the body arrives, so nothing but the current chunk
 * and a delimiter's length of look-behind is held in memory.
 */
import { TooLargeError } from './request-body.ts';

/** The body is not a well-formed form, or a field passes its budget. */
export class FormSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormSyntaxError';
  }
}

/** The headers of one form part that matter here. */
export interface PartHeaders {
  readonly name: string;
  /** Present when the part carries a file name (a file input). */
  readonly filename?: string;
}

/** Most bytes of one part's header block. */
const MAX_PART_HEADER_BYTES = 1024;
/** RFC 2046 §5.1.1: 1..70 characters of a restricted set. */
const BOUNDARY_PATTERN = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * The boundary of a `multipart/form-data` content type, or undefined if it is not one.
 *
 * @example formBoundary('multipart/form-data; boundary=xyz') // 'xyz'
 */
export function formBoundary(contentType: string | null): string | undefined {
  if (!contentType) return undefined;
  const [type, ...params] = contentType.split(';');
  if (type?.trim().toLowerCase() !== 'multipart/form-data') return undefined;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'boundary') continue;
    let value = param.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1);
    }
    return BOUNDARY_PATTERN.test(value) ? value : undefined;
  }
  return undefined;
}

/**
 * Reads one form body part by part. Call {@link nextPart}, then {@link readField} or
 * {@link streamBody} for that part, and so on; `nextPart` answers undefined after the closing
 * delimiter. Every byte read counts against `maxBytes` (lowered with {@link limit}).
 *
 * @example
 * const form = new FormReader(bodyChunks(request.body), boundary, 1 << 20);
 * for (let part = await form.nextPart(); part; part = await form.nextPart()) {
 *   console.log(part.name, await form.readField(4096));
 * }
 */
export class FormReader {
  private readonly source: AsyncIterator<Uint8Array>;
  private readonly delimiter: Buffer;
  /** Unconsumed bytes. Starts with a CRLF so the first delimiter looks like every other. */
  private buffer: Buffer = CRLF;
  private received = 0;
  private maxBytes: number;
  private ended = false;
  private state: 'preamble' | 'headers' | 'body' | 'done' = 'preamble';

  constructor(body: AsyncIterable<Uint8Array>, boundary: string, maxBytes: number) {
    this.source = body[Symbol.asyncIterator]();
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
    this.maxBytes = maxBytes;
  }

  /** Whether the closing delimiter has been read. */
  get closed(): boolean {
    return this.state === 'done';
  }

  /** Lowers the byte bound of the whole body (bytes already read count). */
  limit(maxBytes: number): void {
    this.maxBytes = Math.min(this.maxBytes, maxBytes);
    if (this.received > this.maxBytes) throw new TooLargeError('the form is too large');
  }

  /**
   * The headers of the next part, or undefined after the closing delimiter.
   *
   * @throws {FormSyntaxError} if the body is malformed or ends early.
   * @throws {TooLargeError} if the body passes its bound.
   */
  async nextPart(): Promise<PartHeaders | undefined> {
    if (this.state === 'body') throw new Error('read the current part first');
    if (this.state === 'done') return undefined;
    if (this.state === 'preamble') {
      // Anything before the first delimiter is a preamble, bounded like a header block.
      await this.skipTo(this.delimiter, MAX_PART_HEADER_BYTES);
      if (await this.afterDelimiter()) return undefined;
    }
    const end = await this.find(HEADER_END, MAX_PART_HEADER_BYTES);
    // The CRLF after the delimiter was consumed: a part without headers starts with a CRLF.
    const block = this.take(end).toString('latin1');
    this.take(HEADER_END.length);
    this.state = 'body';
    return parseHeaders(block);
  }

  /**
   * The current part's value as UTF-8 text.
   *
   * @throws {FormSyntaxError} if it is longer than `maxBytes` or the body is malformed.
   */
  async readField(maxBytes: number): Promise<string> {
    const end = await this.find(this.delimiter, maxBytes);
    const value = this.take(end).toString('utf8');
    this.take(this.delimiter.length);
    await this.afterDelimiter();
    return value;
  }

  /**
   * The current part's bytes as they arrive. The iteration ends after the part's delimiter
   * and the line after it have been read, so the caller knows whether another part follows
   * ({@link nextPart}) before it commits what it received.
   */
  async *streamBody(): AsyncGenerator<Uint8Array> {
    const keep = this.delimiter.length - 1;
    for (;;) {
      const at = this.buffer.indexOf(this.delimiter);
      if (at >= 0) {
        if (at > 0) yield this.take(at);
        this.take(this.delimiter.length);
        await this.afterDelimiter();
        return;
      }
      if (this.buffer.length > keep) yield this.take(this.buffer.length - keep);
      if (!(await this.fill())) throw new FormSyntaxError('the form ended inside a part');
    }
  }

  /** After a delimiter: `--` closes the form, CRLF starts a part. Returns true if closed. */
  private async afterDelimiter(): Promise<boolean> {
    while (this.buffer.length < 2) {
      if (!(await this.fill())) throw new FormSyntaxError('the form ended after a delimiter');
    }
    const two = this.buffer.subarray(0, 2).toString('latin1');
    if (two === '--') {
      this.state = 'done';
      return true;
    }
    // RFC 2046 allows transport padding (spaces, tabs) before the CRLF; nobody sends it.
    if (two !== '\r\n') throw new FormSyntaxError('malformed delimiter line');
    this.take(2);
    this.state = 'headers';
    return false;
  }

  /** Index of `needle` in the buffer, reading more as needed, within `within` bytes. */
  private async find(needle: Buffer, within: number): Promise<number> {
    for (;;) {
      const at = this.buffer.indexOf(needle);
      if (at >= 0 && at <= within) return at;
      if (at > within || this.buffer.length > within + needle.length) {
        throw new FormSyntaxError('a form field or header block is too long');
      }
      if (!(await this.fill())) throw new FormSyntaxError('the form ended early');
    }
  }

  private async skipTo(needle: Buffer, within: number): Promise<void> {
    this.take((await this.find(needle, within)) + needle.length);
  }

  private take(n: number): Buffer {
    const head = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return head;
  }

  /** Reads one more chunk into the buffer; false at the end of the body. */
  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const { value, done } = await this.source.next();
    if (done) {
      this.ended = true;
      return false;
    }
    this.received += value.length;
    if (this.received > this.maxBytes) throw new TooLargeError('the form is too large');
    const chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    return true;
  }
}

/** The `name` and `filename` of a part's `Content-Disposition: form-data` header. */
function parseHeaders(block: string): PartHeaders {
  let disposition: string | undefined;
  for (const line of block.split('\r\n')) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new FormSyntaxError('malformed part header');
    if (line.slice(0, colon).trim().toLowerCase() === 'content-disposition') {
      if (disposition !== undefined) throw new FormSyntaxError('two Content-Disposition headers');
      disposition = line.slice(colon + 1).trim();
    }
  }
  if (!disposition || !/^form-data(;|$)/i.test(disposition)) {
    throw new FormSyntaxError('a part has no Content-Disposition: form-data');
  }
  const name = /;\s*name="([^"]*)"/i.exec(disposition)?.[1];
  if (name === undefined) throw new FormSyntaxError('a part has no name');
  const filename = /;\s*filename="([^"]*)"/i.exec(disposition)?.[1];
  return filename === undefined ? { name } : { name, filename };
}
