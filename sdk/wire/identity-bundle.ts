/**
 * The decoded form of a device identity. Types only: error classes carry it, so it must not
 * pull in the codecs (which raise those errors).
 */

/**
 * A device's public identity (docs/PROTOCOL.md §1, version 2): the account key, the device's
 * Ed25519 signing key and X25519 DH identity key, the device id and link epoch they are linked
 * under, and the account key's signature over all of it.
 */
export interface IdentityBundle {
  /** Ed25519 account public key (32); the address is derived from it. */
  readonly accountPublic: Uint8Array;
  /** Ed25519 device signing public key (32); signs prekeys. */
  readonly signingPublic: Uint8Array;
  /** X25519 device DH identity public key (32); IK in PQXDH. */
  readonly dhPublic: Uint8Array;
  /** The device id (u32, non-zero) this identity is linked as; only valid for that device. */
  readonly deviceId: number;
  /**
   * When the link was signed (ms since the epoch, u64 on the wire): a later link of the same
   * device id replaces an earlier one, never the other way round (docs/PROTOCOL.md §1.3).
   */
  readonly linkEpoch: number;
  /** Ed25519 signature (64) by the account key over `deviceLinkPayload` (identity.ts). */
  readonly linkSignature: Uint8Array;
}
