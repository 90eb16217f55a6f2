/**
 * Moderator certificates on the client (docs/SDK.md §Reporting; docs/PROTOCOL.md §11.2): the
 * operator's franking judge keys, which every sealed message is franked for and every received
 * one must name. They come with each sender certificate (the current key) and from
 * `GET /v1/certificates/server` (the current key and the ones it replaces), are validated by
 * the engine against the pinned trust root, and persist in the store so a restarted client
 * franks and accepts offline.
 *
 * | namespace | key | value |
 * |---|---|---|
 * | meta | `moderator-certificates` | `u8 1 \|\| u8 n \|\| n × var16(certificate)` (the accepted ones, newest first) |
 *
 * Sending repairs what franking lacks once: without a valid moderator key the certificates are
 * fetched again; without the recipient device's franking key (a session from before franking)
 * its bundle is fetched for it. Receiving a message franked for a key this device does not
 * hold refreshes the certificates (at most every {@link UNKNOWN_KEY_REFRESH_MS}) and opens the
 * message again, so a key rotation does not drop messages.
 */
import { FrankingUnavailableError, StateCorruptError } from '../errors.ts';
import type { ProtocolEngine } from '../protocol/engine.ts';
import type { PeerAddress } from '../protocol/ratchet-session.ts';
import type { StateStore } from '../state/store.ts';
import { ByteReader, ByteWriter, equalBytes } from '../util/bytes.ts';
import { fromBase64Url } from '../wire/api/codec.ts';
import { MODERATOR_CERTIFICATE_BYTES } from '../wire/certificates.ts';
import type { PayloadReference } from '../wire/multi-recipient-payload.ts';
import type { CallOptions } from './call-options.ts';
import { ApiError } from './errors.ts';
import type { SealpostHttpClient } from './http-client.ts';

/** Most moderator certificates held (the engine's limit). */
export const MAX_HELD_MODERATOR_CERTIFICATES = 8;
/**
 * After a message named an unknown moderator key, the certificates are fetched again at most
 * this often (a sender cannot make every message cost a request).
 */
export const UNKNOWN_KEY_REFRESH_MS = 10 * 60 * 1000;

const KEY = 'moderator-certificates';
const VERSION = 1;

/** The parts of the engine the moderator certificates concern. */
export type FrankingEngine = Pick<
  ProtocolEngine,
  | 'seal'
  | 'sealHeader'
  | 'setModeratorCertificates'
  | 'moderatorKeys'
  | 'peerFrankingKey'
  | 'setPeerFrankingKey'
>;

/** The HTTP operations used here. */
export type ModeratorHttp = Pick<SealpostHttpClient, 'serverCertificate' | 'fetchDeviceBundle'>;

/**
 * Encodes the held certificates.
 *
 * @example await store.commit([{ ns: 'meta', key: 'moderator-certificates', value: encodeModeratorList(certs) }]);
 */
export function encodeModeratorList(certificates: readonly Uint8Array[]): Uint8Array {
  const w = new ByteWriter().u8(VERSION).u8(certificates.length);
  for (const c of certificates) w.var16(c);
  return w.finish();
}

/**
 * Decodes the held certificates strictly.
 *
 * @throws {StateCorruptError} for another version, too many entries or a wrong size.
 */
export function decodeModeratorList(bytes: Uint8Array): Uint8Array[] {
  const r = new ByteReader(bytes, 'moderator certificates', (m) => new StateCorruptError(m));
  if (r.u8() !== VERSION) throw new StateCorruptError('moderator certificates record version');
  const n = r.u8();
  if (n > MAX_HELD_MODERATOR_CERTIFICATES) {
    throw new StateCorruptError('too many moderator certificates');
  }
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(r.var16(MODERATOR_CERTIFICATE_BYTES));
  r.end();
  return out;
}

/** The moderator certificates of one client. */
export class Moderators {
  private unknownRefreshAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly ctx: {
      readonly engine: FrankingEngine;
      readonly http: ModeratorHttp;
      readonly store: StateStore;
      readonly now: () => number;
    },
  ) {}

  /** Sets the stored certificates on the engine (at client open). */
  async load(): Promise<void> {
    const bytes = await this.ctx.store.get('meta', KEY);
    if (bytes === undefined) return;
    await this.ctx.engine.setModeratorCertificates(decodeModeratorList(bytes));
  }

  /**
   * Adds certificates (newest first) to the held ones; the engine keeps those that validate.
   * Persists the result when it changed. Resolves whether the accepted set changed.
   */
  async add(certificates: readonly Uint8Array[]): Promise<boolean> {
    const held = this.ctx.engine.moderatorKeys().map((k) => k.certificate);
    const merged: Uint8Array[] = [];
    for (const c of [...certificates, ...held]) {
      if (!merged.some((m) => equalBytes(m, c))) merged.push(c);
    }
    await this.ctx.engine.setModeratorCertificates(
      merged.slice(0, MAX_HELD_MODERATOR_CERTIFICATES),
    );
    const accepted = this.ctx.engine.moderatorKeys().map((k) => k.certificate);
    const changed =
      accepted.length !== held.length || accepted.some((c, i) => !equalBytes(c, held[i]!));
    if (changed) {
      await this.ctx.store.commit([{ ns: 'meta', key: KEY, value: encodeModeratorList(accepted) }]);
    }
    return changed;
  }

  /** Whether a message can be franked now (a held key that has not expired). */
  hasCurrent(): boolean {
    const now = this.ctx.now();
    return this.ctx.engine.moderatorKeys().some((k) => now <= k.notAfter);
  }

  /**
   * Fetches the service's moderator certificates and adds them (those that do not chain to the
   * pinned trust root are left out by the engine). Resolves whether the accepted set changed.
   *
   * @throws {ApiError | NetworkError} if the fetch fails.
   */
  async refresh(call?: CallOptions): Promise<boolean> {
    const res = await this.ctx.http.serverCertificate(call);
    return this.add(res.moderatorCertificates.map((c) => fromBase64Url(c, 'moderatorCertificate')));
  }

  /**
   * After a message named a moderator key this device does not hold: refreshes, unless that was
   * done within {@link UNKNOWN_KEY_REFRESH_MS}. Resolves whether a new key was accepted (then
   * the message is worth opening again).
   *
   * @throws {ApiError | NetworkError} if the fetch fails (the message stays on the server).
   */
  async refreshForUnknownKey(call?: CallOptions): Promise<boolean> {
    const now = this.ctx.now();
    if (now - this.unknownRefreshAt < UNKNOWN_KEY_REFRESH_MS) return false;
    const changed = await this.refresh(call);
    this.unknownRefreshAt = now;
    return changed;
  }

  /**
   * Seals with franking, repairing once what franking lacks: with no valid moderator key the
   * certificates are fetched again; with no franking key of the recipient device its bundle is
   * fetched and the key stored.
   *
   * @throws {FrankingUnavailableError} if franking still lacks a key after the repair.
   * @throws {ApiError | NetworkError} if a repair request fails.
   */
  seal(
    peer: PeerAddress,
    plaintext: Uint8Array,
    senderCertificate: Uint8Array,
    call?: CallOptions,
  ): Promise<Uint8Array> {
    return this.franked(peer, () => this.ctx.engine.seal(peer, plaintext, senderCertificate), call);
  }

  /**
   * Seals `peer`'s header of a multi-recipient send (docs/PROTOCOL.md §14.3; the engine's
   * `sealHeader`: the franking commitment covers `content`, the ratchet carries `reference`),
   * repairing what franking lacks once, as {@link seal} does.
   *
   * @throws {FrankingUnavailableError} if franking still lacks a key after the repair.
   * @throws {ApiError | NetworkError} if a repair request fails.
   * @example const header = await moderators.sealHeader(peer, content, reference, certificate);
   */
  sealHeader(
    peer: PeerAddress,
    content: Uint8Array,
    reference: PayloadReference,
    senderCertificate: Uint8Array,
    call?: CallOptions,
  ): Promise<Uint8Array> {
    return this.franked(
      peer,
      () => this.ctx.engine.sealHeader(peer, content, reference, senderCertificate),
      call,
    );
  }

  /** Runs `seal`, repairing a missing moderator key or franking key of `peer` once each. */
  private async franked(
    peer: PeerAddress,
    seal: () => Promise<Uint8Array>,
    call: CallOptions | undefined,
  ): Promise<Uint8Array> {
    let refreshed = false;
    let fetched = false;
    for (;;) {
      try {
        return await seal();
      } catch (err) {
        if (!(err instanceof FrankingUnavailableError)) throw err;
        if (!this.hasCurrent()) {
          if (refreshed) throw err;
          refreshed = true;
          await this.refresh(call);
          continue;
        }
        if (fetched || (await this.ctx.engine.peerFrankingKey(peer)) !== undefined) throw err;
        fetched = true;
        const key = await this.fetchFrankingKey(peer, call);
        if (key === undefined) throw err;
        await this.ctx.engine.setPeerFrankingKey(peer, key);
      }
    }
  }

  /** The franking key the service lists for a device, or undefined if it lists no such device. */
  private async fetchFrankingKey(
    peer: PeerAddress,
    call: CallOptions | undefined,
  ): Promise<Uint8Array | undefined> {
    try {
      const res = await this.ctx.http.fetchDeviceBundle(peer.address, peer.deviceId, call);
      const device = res.devices.find((d) => d.deviceId === peer.deviceId);
      return device === undefined ? undefined : fromBase64Url(device.frankingKey, 'frankingKey');
    } catch (err) {
      if (err instanceof ApiError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }
}
