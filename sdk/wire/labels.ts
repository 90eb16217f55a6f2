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
  SENDER_CERTIFICATE: label('Sealpost-SenderCertificate-v1'),
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
} as const;
