/**
 * Request bodies of the object service as async iterables of chunks: read without ever
 * cancelling the stream (on Node a cancel destroys the socket before an early 413 is written;
 * the server drains the rest instead, node-http.ts), bounded in bytes, and with the client's
 * failures (a dropped connection) told apart from the service's own.
 */

/** The body passed the number of bytes allowed. */
export class TooLargeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TooLargeError';
  }
}

/** Reading the body failed: the client went away or sent a broken transfer encoding. */
export class IncompleteBodyError extends Error {
  constructor(cause: unknown) {
    super('the request body could not be read', { cause });
    this.name = 'IncompleteBodyError';
  }
}

/**
 * The chunks of `stream` (none for a missing body). Leaving the loop early releases the
 * stream without cancelling it.
 *
 * @example for await (const chunk of bodyChunks(request.body)) size += chunk.length;
 * @throws {IncompleteBodyError} if reading fails.
 */
export async function* bodyChunks(
  stream: ReadableStream<Uint8Array> | null,
): AsyncGenerator<Uint8Array> {
  if (!stream) return;
  const reader = stream.getReader();
  try {
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (err) {
        throw new IncompleteBodyError(err);
      }
      if (result.done) return;
      yield result.value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * `body`, failing as soon as more than `maxBytes` have passed (the chunk that passes the
 * bound is not handed on).
 *
 * @example storage.putPart(key, uploadId, n, limited(bodyChunks(request.body), partSize))
 * @throws {TooLargeError} past `maxBytes`.
 */
export async function* limited(
  body: AsyncIterable<Uint8Array>,
  maxBytes: number,
): AsyncGenerator<Uint8Array> {
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) throw new TooLargeError(`the body passes ${maxBytes} bytes`);
    yield chunk;
  }
}
