/**
 * Every domain-separation label and protocol constant that crosses the wire or feeds a KDF.
 * One list, so docs/PROTOCOL.md and both sides of the protocol cannot drift apart.
 * Changing any value is a protocol version change.
 */
const enc = new TextEncoder();
const label = (s: string): Uint8Array => enc.encode(s);

export const LABELS = {
  /** address = base32(SHA-256(ADDRESS || accountPublic)[0..20]) */
  ADDRESS: label('Sealpost-Address-v1'),
  /** account key signs DEVICE_LINK || signingPublic(32) || dhPublic(32) || u32 deviceId || u64 epoch */
  DEVICE_LINK: label('Sealpost-DeviceLink-v2'),
  /** device key signs SIGNED_PREKEY || u32 id || X25519 public */
  SIGNED_PREKEY: label('Sealpost-SignedPrekey-v1'),
  /** device key signs KEM_PREKEY || u8 kind || u32 id || ML-KEM-1024 public */
  KEM_PREKEY: label('Sealpost-KemPrekey-v1'),
  /** PQXDH KDF info (PQXDH §2.2: protocol name, curve, hash, KEM) */
  PQXDH_INFO: label('Sealpost_X25519_SHA-256_ML-KEM-1024'),
  /** Double Ratchet KDF_RK info */
  RATCHET_ROOT: label('Sealpost-Ratchet-Root-v1'),
  /** trust root signs SERVER_CERTIFICATE || body */
  SERVER_CERTIFICATE: label('Sealpost-ServerCertificate-v1'),
  /** server key signs SENDER_CERTIFICATE || body */
  SENDER_CERTIFICATE: label('Sealpost-SenderCertificate-v2'),
  /** trust root signs MODERATOR_CERTIFICATE || moderator certificate body (PROTOCOL.md §11.2) */
  MODERATOR_CERTIFICATE: label('Sealpost-ModeratorCertificate-v1'),
  /** franking key: HKDF info of the device franking scalar (PROTOCOL.md §11.1) */
  FRANKING_KEY: label('Sealpost-Franking-Key-v1'),
  /** franking commitment = HMAC(openingKey, FRANKING_COMMIT || content) (PROTOCOL.md §11.3) */
  FRANKING_COMMIT: label('Sealpost-Franking-Commit-v1'),
  /** session key signs FRANKING_MESSAGE || commitment || sender || recipient || key id (§11.3) */
  FRANKING_MESSAGE: label('Sealpost-Franking-Message-v1'),
  /** franked session m_s = FRANKING_SESSION || session key || sender || recipient || key id (§11.3) */
  FRANKING_SESSION: label('Sealpost-Franking-Session-v1'),
  /** Fiat-Shamir transcript prefix of the franking proof (PROTOCOL.md §11.3) */
  FRANKING_PROOF: label('Sealpost-Franking-Proof-v1'),
  /** server stamp key: HKDF info = FRANKING_STAMP_KEY || u32 epoch (PROTOCOL.md §11.4) */
  FRANKING_STAMP_KEY: label('Sealpost-Franking-StampKey-v1'),
  /** server stamp = HMAC(stamp key, FRANKING_STAMP || fields) (PROTOCOL.md §11.4) */
  FRANKING_STAMP: label('Sealpost-Franking-Stamp-v1'),
  /** sealed sender ephemeral layer KDF info */
  SEALED_EPHEMERAL: label('Sealpost-Sealed-Ephemeral-v1'),
  /** sealed sender static layer KDF info */
  SEALED_STATIC: label('Sealpost-Sealed-Static-v1'),
  /** safety number fingerprint iteration input prefix */
  FINGERPRINT: label('Sealpost-Fingerprint-v1'),
  /** delivery access key = HKDF(accountSeed, salt 0^32, info ACCESS_KEY, 16) (docs/SDK.md) */
  ACCESS_KEY: label('Sealpost-AccessKey-v1'),
  /** owner request signing (service API) */
  REQUEST_SIGNATURE: label('Sealpost-Request-v1'),
  /** proof of possession at registration (service API) */
  REGISTRATION: label('Sealpost-Registration-v1'),
  /** account key co-signs a device's request that acts on another device (service API) */
  ACCOUNT_REQUEST: label('Sealpost-AccountRequest-v1'),
  /** attachment encKey || commitment = HKDF(K, salt 0^32, info ATTACHMENT, 64) (PROTOCOL.md §10) */
  ATTACHMENT: label('Sealpost attachment v1'),
  /** shared payload encKey || commitment = HKDF(K, salt 0^32, info SHARED_PAYLOAD, 64) (PROTOCOL.md §14) */
  SHARED_PAYLOAD: label('Sealpost-SharedPayload-v1'),
  /** server key signs REVOCATIONS || revocation list body (docs/SERVICE.md §14) */
  REVOCATIONS: label('Sealpost-Revocations-v1'),
  /** server key signs TOKEN_KEYS || token key list body (docs/PROTOCOL.md §13) */
  TOKEN_KEYS: label('Sealpost-TokenKeys-v1'),
  /** HKDF info (then u32 day) of the key wrapping a day's token issuer key (docs/SERVICE.md) */
  TOKEN_KEY_WRAP: label('Sealpost-TokenKeyWrap-v1'),
} as const;
