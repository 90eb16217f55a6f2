/**
 * Sending a message to several devices of an account the two ways the protocol allows, built
 * by hand from the engine (so receive tests do not depend on the client's choice of path):
 * one multi-recipient request (docs/PROTOCOL.md §14.4), or per-device envelopes (§6).
 */
import type { TestSealpost } from '@sealpost/testing';
import { expect } from 'vitest';
import { CONTENT_KIND_MESSAGE, encodeContent } from '#sdk/client/content.ts';
import { registrationIdOf } from '#sdk/client/fanout.ts';
import type { SealpostClient } from '#sdk/client/index.ts';
import { defaultBackend } from '#sdk/crypto/index.ts';
import { sealMultiRecipient } from '#sdk/protocol/engine-multi.ts';
import { fromBase64Url, toBase64Url, utf8 } from '#sdk/util/bytes.ts';
import { MULTI_RECIPIENT_CONTENT_TYPE } from '#sdk/wire/api/routes.ts';
import { encodeMultiRecipientRequest } from '#sdk/wire/multi-recipient.ts';

/** The content frame of a text message from `from`. */
function textFrame(sealpost: TestSealpost, from: SealpostClient, text: string): Uint8Array {
  return encodeContent({
    kind: CONTENT_KIND_MESSAGE,
    text: true,
    senderAccessKey: fromBase64Url(from.contactCard().accessKey),
    sentAt: sealpost.now(),
    body: utf8(text),
  });
}

/**
 * Sends `text` from `from` to `devices` of `to` as one multi-recipient request (one payload,
 * a header per device), the way a sending client builds it (docs/PROTOCOL.md §14.4). `from`
 * needs sessions with every device (a first `send` makes them).
 */
export async function sendShared(
  sealpost: TestSealpost,
  from: SealpostClient,
  to: SealpostClient,
  devices: readonly SealpostClient[],
  text: string,
): Promise<void> {
  const content = textFrame(sealpost, from, text);
  const certificate = await from.senderCertificate();
  const peers = devices.map((d) => ({ address: d.address, deviceId: d.deviceId }));
  const { payload, headers } = await sealMultiRecipient(
    from.engine['context'],
    peers,
    content,
    certificate,
  );
  const body = encodeMultiRecipientRequest({
    requestId: crypto.getRandomValues(new Uint8Array(16)),
    accounts: [
      {
        address: to.address,
        auth: { kind: 'accessKey', accessKey: fromBase64Url(to.contactCard().accessKey) },
        devices: headers.map((h, i) => ({
          deviceId: h.peer.deviceId,
          registrationId: registrationIdOf(defaultBackend, devices[i]!.engine.identity),
          header: h.header,
        })),
      },
    ],
    payload,
  });
  const res = await sealpost.fetch(`${sealpost.baseUrl}/v1/messages/multi`, {
    method: 'PUT',
    headers: { 'content-type': MULTI_RECIPIENT_CONTENT_TYPE },
    body: body as BodyInit,
  });
  expect(res.status).toBe(200);
}

/** Sends `text` from `from` to `devices` of `to` as per-device envelopes (docs/PROTOCOL.md §6). */
export async function sendPerDevice(
  sealpost: TestSealpost,
  from: SealpostClient,
  to: SealpostClient,
  devices: readonly SealpostClient[],
  text: string,
): Promise<void> {
  const content = textFrame(sealpost, from, text);
  const certificate = await from.senderCertificate();
  const envelopes = [];
  for (const d of devices) {
    const envelope = await from.engine.seal(
      { address: d.address, deviceId: d.deviceId },
      content,
      certificate,
    );
    envelopes.push({
      deviceId: d.deviceId,
      registrationId: registrationIdOf(defaultBackend, d.engine.identity),
      envelope: toBase64Url(envelope),
    });
  }
  await from.http.sendSealed(
    to.address,
    { messageId: toBase64Url(crypto.getRandomValues(new Uint8Array(16))), envelopes },
    { accessKey: fromBase64Url(to.contactCard().accessKey) },
  );
}
