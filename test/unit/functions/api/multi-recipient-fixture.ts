/**
 * Multi-recipient sends through the app over the in-memory ports (docs/SERVICE.md §7.5):
 * requests built with the SDK's encoder around a real shared payload (sealed with the node
 * backend) and per-device headers that pass the service's checks as the vectors' do (a
 * version-2 envelope of a header's size: the service never opens one).
 */
import { randomBytes } from '#functions/domain/crypto.ts';
import { nodeBackend } from '#sdk/crypto/node-backend.ts';
import { sealSharedPayload } from '#sdk/protocol/shared-payload.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import { MULTI_RECIPIENT_CONTENT_TYPE } from '#sdk/wire/api/routes.ts';
import {
  encodeMultiRecipientRequest,
  type MultiRecipientAccount,
  type MultiRecipientAuth,
} from '#sdk/wire/multi-recipient.ts';
import type { PayloadReference } from '#sdk/wire/multi-recipient-payload.ts';
import { SEALED_ENVELOPE_VERSION } from '#sdk/wire/sealed.ts';
import {
  BOB_ACCESS_KEY,
  type CallResult,
  harness,
  memoryPorts,
  registrationId,
  type TestDevice,
  testMaterial,
} from '../fixtures.ts';

/** A per-device header as the service sees one: a version-2 envelope of a steady-state size. */
export function fakeHeader(size = 993): Uint8Array {
  const header = randomBytes(size);
  header[0] = SEALED_ENVELOPE_VERSION;
  return header;
}

/** A real shared payload of `content` and the reference that opens it. */
export function sharedPayload(content: Uint8Array = randomBytes(1024)): {
  payload: Uint8Array;
  reference: PayloadReference;
  content: Uint8Array;
} {
  const { payload, reference } = sealSharedPayload(nodeBackend, randomBytes, content);
  return { payload, reference, content };
}

/** The devices of one recipient account as a test holds them. */
export interface Recipient {
  readonly devices: TestDevice[];
  /** The key the account registered with (undefined: `anyone`). */
  readonly accessKey?: Uint8Array;
}

/** One account of a request: every device (or `devices`) with a fresh header each. */
export function target(
  recipient: Recipient,
  auth: MultiRecipientAuth,
  devices: readonly { deviceId: number; registrationId: number }[] = recipient.devices.map((d) => ({
    deviceId: d.deviceId,
    registrationId: registrationId(d.identity),
  })),
): MultiRecipientAccount & { headers: Map<number, Uint8Array> } {
  const listed = devices.map((d) => ({ ...d, header: fakeHeader() }));
  return {
    address: recipient.devices[0]!.account.address,
    auth,
    devices: listed,
    headers: new Map(listed.map((d) => [d.deviceId, d.header])),
  };
}

/** The authorization by the recipient's access key. */
export const byKey = (r: Recipient): MultiRecipientAuth => ({
  kind: 'accessKey',
  accessKey: r.accessKey!,
});

/** An app with three recipient accounts: Bob (2 devices), Carol (3), Dave (2, `anyone`). */
export async function multiWorld(options: Parameters<typeof harness>[1] = {}) {
  const h = harness(memoryPorts(testMaterial()), options);
  const account = async (
    devices: number,
    accessKey: Uint8Array,
    anyone = false,
  ): Promise<Recipient> => {
    const first = await h.register(accessKey, anyone ? { firstContact: 'anyone' } : {});
    const all = [first];
    for (let i = 1; i < devices; i++) all.push(await h.link(first.account));
    return anyone ? { devices: all } : { devices: all, accessKey };
  };
  const bob = await account(2, BOB_ACCESS_KEY);
  const carol = await account(3, new Uint8Array(16).fill(3));
  const dave = await account(2, new Uint8Array(16).fill(4), true);

  /** `PUT /v1/messages/multi` with `body` (or an encoded request). */
  const sendMulti = (
    body: Uint8Array,
    headers: Record<string, string> = { 'content-type': MULTI_RECIPIENT_CONTENT_TYPE },
  ): Promise<CallResult> =>
    h.call({ method: 'PUT', path: '/v1/messages/multi', rawBody: body, headers });

  /** `PUT /v1/messages/multi/identified`, signed by `signer`. */
  const sendMultiIdentified = (signer: TestDevice, body: Uint8Array): Promise<CallResult> =>
    h.call({
      method: 'PUT',
      path: '/v1/messages/multi/identified',
      rawBody: body,
      headers: { 'content-type': MULTI_RECIPIENT_CONTENT_TYPE },
      signer,
    });

  /** `GET /v1/messages` of `device`, with `query` (e.g. `payloads=1`). */
  const fetch = async (device: TestDevice, query = '') => {
    const res = await h.call({
      method: 'GET',
      path: `/v1/messages${query ? `?${query}` : ''}`,
      signer: device,
    });
    if (res.status !== 200) throw new Error(`fetch: ${JSON.stringify(res.body)}`);
    return res.body.messages;
  };

  /** `POST /v1/messages/ack` of `device`. */
  const ack = (device: TestDevice, messageIds: readonly string[]) =>
    h.call({ method: 'POST', path: '/v1/messages/ack', json: { messageIds }, signer: device });

  /** What the stores hold: records, payload objects and reference sets. */
  const stored = () => ({
    records: h.ports.index.dump().records.length,
    payloads: h.ports.payloads.objects.size,
    sets: h.ports.payloads.references.size,
  });

  return { h, bob, carol, dave, sendMulti, sendMultiIdentified, fetch, ack, stored };
}

/** Encodes a request for `accounts` with `payload` under a fresh (or given) request id. */
export function request(
  accounts: readonly MultiRecipientAccount[],
  payload: Uint8Array,
  requestId: Uint8Array = randomBytes(16),
): Uint8Array {
  return encodeMultiRecipientRequest({
    requestId,
    accounts: accounts.map(({ address, auth, devices }) => ({ address, auth, devices })),
    payload,
  });
}

/** The `messageId` a successful send answers: the request id, base64url. */
export const answerId = (requestId: Uint8Array): string => toBase64Url(requestId);
