/**
 * Whether a blob is in the object store under an attachment id, judged by its first bytes: a
 * ranged GET of the 34-byte header, which carries the key commitment (docs/PROTOCOL.md §10.2).
 * Only someone holding the attachment key can produce that header, so a match (with the
 * expected total size) proves the blob is this upload's. Used when the service answers
 * `NOT_FOUND` for an upload whose completion may have happened unseen.
 */
import { ATTACHMENT_HEADER_BYTES } from '../../attachments/index.ts';
import { constantTimeEqual } from '../../util/bytes.ts';
import type { CallOptions } from '../call-options.ts';
import type { SealpostHttpClient } from '../http-client.ts';
import {
  isMissing,
  openTransfer,
  type TransferContext,
  transferFailure,
} from './object-transfer.ts';

const CONTENT_RANGE = /^bytes\s+\d+-\d+\/(\d+)$/i;

function totalSize(response: Response): number | undefined {
  if (response.status === 206) {
    const m = CONTENT_RANGE.exec(response.headers.get('content-range') ?? '');
    return m ? Number(m[1]) : undefined;
  }
  const length = response.headers.get('content-length');
  return length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
}

/**
 * True if the store holds a blob of `blobSize` bytes under `id` that starts with `header`;
 * false if it has none (404, or S3's 403 for a missing key) or holds something else.
 *
 * @throws {ApiError | NetworkError | TransferFailedError | AbortedError} when it cannot tell.
 * @example if (await blobStored(http, transfer, id, { header, blobSize })) return;
 */
export async function blobStored(
  http: SealpostHttpClient,
  transfer: TransferContext,
  id: string,
  expected: { readonly header: Uint8Array; readonly blobSize: number },
  call: CallOptions | undefined,
): Promise<boolean> {
  const { url } = await http.downloadAttachment(id, call);
  const opened = await openTransfer(
    transfer,
    url,
    { method: 'GET', headers: { range: `bytes=0-${ATTACHMENT_HEADER_BYTES - 1}` } },
    {
      operation: 'checkBlob',
      timeoutMs: call?.timeoutMs ?? transfer.timeoutMs,
      signal: call?.signal,
    },
  );
  const status = opened.response.status;
  if (isMissing(status)) {
    await opened.discard();
    return false;
  }
  if (status !== 200 && status !== 206) {
    await opened.discard();
    throw transferFailure('checkBlob', opened);
  }
  const total = totalSize(opened.response);
  // A store that ignores the range sends the whole blob: only its first bytes are read.
  const first = new Uint8Array(ATTACHMENT_HEADER_BYTES);
  let have = 0;
  for await (const chunk of opened.chunks()) {
    const take = Math.min(chunk.length, first.length - have);
    first.set(chunk.subarray(0, take), have);
    have += take;
    if (have === first.length) break;
  }
  if (have < first.length) return false;
  return (
    (total === undefined || total === expected.blobSize) &&
    constantTimeEqual(first, expected.header)
  );
}
