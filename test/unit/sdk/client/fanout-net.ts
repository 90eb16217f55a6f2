/**
 * A `fetch` in front of the in-process service for the fan-out tests: it logs each request as
 * `METHOD path`, records each send (per-device JSON or multi-recipient binary, decoded), can
 * answer the next sends itself, and can remove `capabilities` from the bundles and device lists
 * the service answers, so chosen devices look like devices of an older client.
 */
import type { TestSealpost } from '@sealpost/testing';
import type { FetchLike } from '#sdk/client/http-client.ts';
import { toBase64Url } from '#sdk/util/bytes.ts';
import {
  decodeMultiRecipientRequest,
  type MultiRecipientRequest,
} from '#sdk/wire/multi-recipient.ts';

/** One send request as the service received it. */
export interface SendCall {
  readonly path: string;
  /** base64url of the request id. */
  readonly messageId: string;
  /** The device ids named (of the one account a client's send names). */
  readonly devices: number[];
  /** The decoded multi-recipient request, for `/v1/messages/multi[/identified]`. */
  readonly multi?: MultiRecipientRequest;
}

/** Whether the capabilities of `deviceId` of `address` are removed from answers. */
export type StripRule = (address: string, deviceId: number) => boolean;

const LISTING =
  /^\/v1\/(?:(?:sealed\/)?bundles\/([a-z2-7]{32})(?:\/\d+)?|accounts\/([a-z2-7]{32})\/devices|sealed\/devices\/([a-z2-7]{32}))$/;

/** The multi-recipient send paths. */
export const MULTI_PATH = '/v1/messages/multi';
export const MULTI_IDENTIFIED_PATH = '/v1/messages/multi/identified';

function recordSend(path: string, body: Uint8Array): SendCall {
  if (path === MULTI_PATH || path === MULTI_IDENTIFIED_PATH) {
    const multi = decodeMultiRecipientRequest(body);
    return {
      path,
      messageId: toBase64Url(multi.requestId),
      devices: multi.accounts.flatMap((a) => a.devices.map((d) => d.deviceId)),
      multi,
    };
  }
  const json = JSON.parse(new TextDecoder().decode(body)) as {
    messageId: string;
    envelopes: { deviceId: number }[];
  };
  return { path, messageId: json.messageId, devices: json.envelopes.map((e) => e.deviceId) };
}

/**
 * Wraps `sealpost.fetch`. `fakes` answer the next send attempts (one each) before the service
 * sees them; `strip` (changeable later through the returned object) picks the devices whose
 * capabilities are removed.
 *
 * @example const net = intercept(sealpost, { strip: () => true });
 */
export function intercept(sealpost: TestSealpost, options: { strip?: StripRule } = {}) {
  const log: string[] = [];
  const sends: SendCall[] = [];
  const fakes: (() => Response)[] = [];
  const state = { strip: options.strip };
  const fetch: FetchLike = async (url, init) => {
    const path = new URL(url).pathname;
    log.push(`${init.method} ${path}`);
    if (init.method === 'PUT' && path.startsWith('/v1/messages/')) {
      sends.push(recordSend(path, init.body as Uint8Array));
      const fake = fakes.shift();
      if (fake) return fake();
    }
    const res = await sealpost.fetch(url, init);
    const listing = init.method === 'GET' ? LISTING.exec(path) : null;
    const strip = state.strip;
    if (!listing || !strip || !res.ok) return res;
    const address = listing[1] ?? listing[2] ?? listing[3] ?? '';
    const body = (await res.json()) as { devices: { deviceId: number; capabilities?: unknown }[] };
    for (const d of body.devices) {
      if (strip(address, d.deviceId)) delete d.capabilities;
    }
    return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
  };
  return {
    fetch,
    log,
    sends,
    fakes,
    /** Changes which devices' capabilities are removed (undefined: none). */
    setStrip(rule: StripRule | undefined) {
      state.strip = rule;
    },
  };
}

/** An error answer of the service's shape. */
export const errorResponse = (status: number, error: object) =>
  new Response(JSON.stringify({ error: { message: 'refused', ...error } }), {
    status,
    headers: { 'content-type': 'application/json' },
  });
