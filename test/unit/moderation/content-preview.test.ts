/**
 * The moderation preview of reported content (functions/api/moderation/content-preview.ts)
 * agrees with the SDK's content frame encoder: kind, send time, text, attachment metadata
 * (without keys); anything else is `unknown`.
 */
import { describe, expect, it } from 'vitest';
import { previewContent } from '#functions/api/moderation/content-preview.ts';
import { encodeAttachmentPointer } from '#sdk/attachments/pointer.ts';
import { CONTENT_KIND_MESSAGE, CONTENT_KIND_SYNC, encodeContent } from '#sdk/client/content.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';

const accessKey = new Uint8Array(16).fill(9);
const utf8 = (s: string) => new TextEncoder().encode(s);
const pointer = {
  id: toBase64Url(new Uint8Array(16).fill(1)),
  key: new Uint8Array(32).fill(2),
  digest: new Uint8Array(32).fill(3),
  size: 42,
  contentType: 'application/pdf',
};

describe('content preview', () => {
  it('shows the text of a message frame', () => {
    const frame = encodeContent({
      kind: CONTENT_KIND_MESSAGE,
      text: true,
      senderAccessKey: accessKey,
      sentAt: 1_700_000_000_123,
      body: utf8('héllo \u202e'),
    });
    expect(previewContent(frame)).toEqual({
      frame: 'content',
      kind: 'message',
      sentAt: 1_700_000_000_123,
      text: 'héllo \u202e',
      bodyBytes: utf8('héllo \u202e').length,
    });
  });

  it('shows a sync frame and binary bodies by size, and every attachment’s metadata', () => {
    const frame = encodeContent({
      kind: CONTENT_KIND_SYNC,
      destination: 'aebagbafaydqqcikbmga2dqpcaireeyu',
      text: false,
      senderAccessKey: accessKey,
      sentAt: 5,
      attachments: [pointer, { ...pointer, fileName: 'a b.pdf', durationMs: 1500 }],
      body: new Uint8Array([0, 255, 1]),
    });
    const preview = previewContent(frame);
    expect(preview).toEqual({
      frame: 'content',
      kind: 'sync',
      sentAt: 5,
      bodyBytes: 3,
      attachments: [
        { id: pointer.id, size: 42, contentType: 'application/pdf' },
        {
          id: pointer.id,
          size: 42,
          contentType: 'application/pdf',
          fileName: 'a b.pdf',
          durationMs: 1500,
        },
      ],
    });
    expect(JSON.stringify(preview)).not.toContain(toBase64Url(pointer.key));
  });

  it('shows no text when a frame marked as text is not UTF-8', () => {
    const frame = encodeContent({
      kind: CONTENT_KIND_MESSAGE,
      text: true,
      senderAccessKey: accessKey,
      sentAt: 5,
      body: new Uint8Array([0xc3, 0x28]),
    });
    expect(previewContent(frame)).toEqual({
      frame: 'content',
      kind: 'message',
      sentAt: 5,
      bodyBytes: 2,
    });
  });

  it('shows anything that is not a content frame as unknown', () => {
    const good = encodeContent({
      kind: CONTENT_KIND_MESSAGE,
      text: false,
      senderAccessKey: accessKey,
      sentAt: 5,
      attachments: [pointer],
      body: new Uint8Array(0),
    });
    const broken = [
      new Uint8Array(0),
      utf8('just text'),
      good.subarray(0, 20),
      Object.assign(good.slice(), { 0: 2 }),
      Object.assign(good.slice(), { 1: 9 }),
      Object.assign(good.slice(), { 2: 0x80 }),
      // A pointer cut short inside the attachment section.
      good.subarray(0, good.length - 3),
    ];
    for (const bytes of broken) {
      expect(previewContent(bytes)).toEqual({ frame: 'unknown', bytes: bytes.length });
    }
    expect(encodeAttachmentPointer(pointer).length).toBeGreaterThan(3);
  });
});
