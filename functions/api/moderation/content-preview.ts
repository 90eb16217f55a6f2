/**
 * What an operator sees of a reported message's content (docs/SERVICE.md §14.4): the content is
 * the SDK client's content frame (docs/SDK.md "Content frame", `sdk/client/content.ts`):
 *
 * ```
 * u8 version = 1 || u8 kind || u8 flags || senderAccessKey(16) || u64 sentAtMs
 *   || destinationAddressBytes(20)                    (kind 2 only)
 *   || u8 count || count x (u16 len || pointer)       (flags bit 1 only; count 1..32)
 *   || body                                           (the rest)
 * ```
 *
 * The preview shows the kind, the send time, the body as text when it is UTF-8 text, and the
 * attachments' metadata (id, size, type, name, dimensions, duration, thumbnail size). It never
 * shows the sender's access key or an attachment's key or digest: the full content is in the
 * report for whoever must see more. Anything that is not such a frame is shown as `unknown`.
 */
import { decodeAttachmentPointer } from 'sealpost/attachments';
import { ACCESS_KEY_BYTES } from 'sealpost/wire/api';

const FRAME_VERSION = 1;
const KINDS = { 1: 'message', 2: 'sync', 3: 'key-update' } as const;
const FLAG_TEXT = 0x01;
const FLAG_ATTACHMENTS = 0x02;
const ADDRESS_BYTES = 20;
const MAX_ATTACHMENTS = 32;

/** One attachment as an operator sees it. */
export interface AttachmentPreview {
  readonly id: string;
  readonly size: number;
  readonly contentType: string;
  readonly fileName?: string;
  readonly width?: number;
  readonly height?: number;
  readonly durationMs?: number;
  readonly thumbnailBytes?: number;
}

/** What a content frame shows. */
export type ContentPreview =
  | {
      readonly frame: 'content';
      readonly kind: (typeof KINDS)[keyof typeof KINDS];
      readonly sentAt: number;
      /** The body, when the frame marks it as text and it is valid UTF-8. */
      readonly text?: string;
      readonly bodyBytes: number;
      readonly attachments?: readonly AttachmentPreview[];
    }
  | { readonly frame: 'unknown'; readonly bytes: number };

class Reader {
  pos = 0;
  constructor(private readonly b: Uint8Array) {}
  take(n: number): Uint8Array {
    if (this.pos + n > this.b.length) throw new RangeError('truncated');
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  u8(): number {
    return this.take(1)[0]!;
  }
  u16(): number {
    const b = this.take(2);
    return (b[0]! << 8) | b[1]!;
  }
  u64(): number {
    const b = this.take(8);
    const hi = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    const lo = ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0;
    if (hi >= 2 ** 21) throw new RangeError('u64 out of range');
    return hi * 2 ** 32 + lo;
  }
  rest(): Uint8Array {
    return this.take(this.b.length - this.pos);
  }
}

function attachment(pointer: Uint8Array): AttachmentPreview {
  const p = decodeAttachmentPointer(pointer);
  return {
    id: p.id,
    size: p.size,
    contentType: p.contentType,
    ...(p.fileName === undefined ? {} : { fileName: p.fileName }),
    ...(p.width === undefined ? {} : { width: p.width }),
    ...(p.height === undefined ? {} : { height: p.height }),
    ...(p.durationMs === undefined ? {} : { durationMs: p.durationMs }),
    ...(p.thumbnail === undefined ? {} : { thumbnailBytes: p.thumbnail.length }),
  };
}

/**
 * The preview of a reported message's content.
 *
 * @example previewContent(report.messages[0].content) // { frame: 'content', kind: 'message', text: 'hi', ... }
 */
export function previewContent(content: Uint8Array): ContentPreview {
  try {
    const r = new Reader(content);
    if (r.u8() !== FRAME_VERSION) throw new RangeError('version');
    const kindByte = r.u8();
    const kind = KINDS[kindByte as keyof typeof KINDS];
    if (kind === undefined) throw new RangeError('kind');
    const flags = r.u8();
    if ((flags & ~(FLAG_TEXT | FLAG_ATTACHMENTS)) !== 0) throw new RangeError('flags');
    r.take(ACCESS_KEY_BYTES);
    const sentAt = r.u64();
    if (kind === 'sync') r.take(ADDRESS_BYTES);
    let attachments: AttachmentPreview[] | undefined;
    if (flags & FLAG_ATTACHMENTS) {
      const count = r.u8();
      if (count === 0 || count > MAX_ATTACHMENTS) throw new RangeError('count');
      attachments = [];
      for (let i = 0; i < count; i++) attachments.push(attachment(r.take(r.u16())));
    }
    const body = r.rest();
    let text: string | undefined;
    if (flags & FLAG_TEXT) {
      try {
        text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
      } catch {
        text = undefined;
      }
    }
    return {
      frame: 'content',
      kind,
      sentAt,
      ...(text === undefined ? {} : { text }),
      bodyBytes: body.length,
      ...(attachments ? { attachments } : {}),
    };
  } catch {
    return { frame: 'unknown', bytes: content.length };
  }
}
