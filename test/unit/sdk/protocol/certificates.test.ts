import { beforeAll, describe, expect, it } from 'vitest';
import { type CryptoBackend, defaultBackend, systemRng } from '#sdk/crypto/index.ts';
import { InvalidCertificateError } from '#sdk/errors.ts';
import {
  issueModeratorCertificate,
  issueSenderCertificate,
  issueServerCertificate,
  type TrustConfig,
  validateModeratorCertificate,
  validateSenderCertificate,
} from '#sdk/protocol/certificates.ts';
import { ArgumentRangeError, ArgumentTypeError } from '#sdk/util/argument-errors.ts';
import {
  decodeModeratorCertificate,
  decodeSenderCertificate,
  decodeServerCertificate,
  encodeModeratorCertificate,
  encodeSenderCertificate,
  moderatorCertificatePayload,
  senderCertificatePayload,
  serverCertificatePayload,
} from '#sdk/wire/certificates.ts';

const backend = defaultBackend;
const DAY = 86_400_000;
const NOW = 1_750_000_000_000;
const ADDRESS = 'abcdefghijklmnopqrstuvwxyz234567';

/** The backend with Ed25519 verifications counted, to observe the certificate cache. */
function counting(inner: CryptoBackend): { backend: CryptoBackend; verifies: () => number } {
  let n = 0;
  const proxy = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'ed25519Verify') {
        return (...args: Parameters<CryptoBackend['ed25519Verify']>) => {
          n++;
          return target.ed25519Verify(...args);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { backend: proxy, verifies: () => n };
}

interface Chain {
  rootSeed: Uint8Array;
  trust: TrustConfig;
  serverSeed: Uint8Array;
  serverCert: Uint8Array;
  identityKey: Uint8Array;
  /** Opaque to certificates: any 32 bytes (the franking layer checks the point). */
  frankingKey: Uint8Array;
}

let keyIdCounter = 100;

async function makeChain(serverNotAfter = NOW + 30 * DAY): Promise<Chain> {
  const rootSeed = systemRng(32);
  const serverSeed = systemRng(32);
  const serverCert = await issueServerCertificate(backend, rootSeed, {
    keyId: keyIdCounter++,
    serverPublic: await backend.ed25519PublicKey(serverSeed),
    notAfter: serverNotAfter,
  });
  return {
    rootSeed,
    trust: { trustRoot: await backend.ed25519PublicKey(rootSeed), revokedServerKeyIds: [] },
    serverSeed,
    serverCert,
    identityKey: await backend.x25519PublicKey(systemRng(32)),
    frankingKey: systemRng(32),
  };
}

function senderFields(chain: Chain, expires = NOW + 7 * DAY) {
  return {
    address: ADDRESS,
    deviceId: 3,
    identityKey: chain.identityKey,
    frankingKey: chain.frankingKey,
    expires,
    serverCertificate: chain.serverCert,
  };
}

describe('sender certificate validation', () => {
  let chain: Chain;
  let cert: Uint8Array;
  beforeAll(async () => {
    chain = await makeChain();
    cert = await issueSenderCertificate(backend, chain.serverSeed, senderFields(chain));
  });

  it('accepts a valid chain and returns the decoded certificate', async () => {
    const decoded = await validateSenderCertificate(backend, cert, chain.trust, NOW);
    expect(decoded).toEqual(decodeSenderCertificate(cert));
    expect(decoded.address).toBe(ADDRESS);
    expect(decoded.deviceId).toBe(3);
    expect(decoded.identityKey).toEqual(chain.identityKey);
    expect(decoded.frankingKey).toEqual(chain.frankingKey);
    expect(decoded.serverCertificate).toEqual(chain.serverCert);
  });

  it('returns a copy the caller may modify without affecting later validations', async () => {
    const first = await validateSenderCertificate(backend, cert, chain.trust, NOW);
    first.identityKey.fill(0);
    first.frankingKey.fill(0);
    const second = await validateSenderCertificate(backend, cert, chain.trust, NOW);
    expect(second.identityKey).toEqual(chain.identityKey);
    expect(second.frankingKey).toEqual(chain.frankingKey);
  });

  it('rejects a chain to another trust root', async () => {
    const other = await makeChain();
    const trust = { ...chain.trust, trustRoot: other.trust.trustRoot };
    await expect(validateSenderCertificate(backend, cert, trust, NOW)).rejects.toThrow(
      /not signed by the trust root/,
    );
  });

  it('rejects a server certificate with a bad root signature', async () => {
    const server = decodeServerCertificate(chain.serverCert);
    const badServerCert = chain.serverCert.slice();
    badServerCert[badServerCert.length - 1]! ^= 1;
    expect(decodeServerCertificate(badServerCert).keyId).toBe(server.keyId);
    const badCert = await issueSenderCertificate(backend, chain.serverSeed, {
      ...senderFields(chain),
      serverCertificate: badServerCert,
    });
    await expect(validateSenderCertificate(backend, badCert, chain.trust, NOW)).rejects.toThrow(
      InvalidCertificateError,
    );
    await expect(validateSenderCertificate(backend, badCert, chain.trust, NOW)).rejects.toThrow(
      /not signed by the trust root/,
    );
  });

  it('rejects a revoked server key id', async () => {
    const { keyId } = decodeServerCertificate(chain.serverCert);
    const trust = { ...chain.trust, revokedServerKeyIds: [1, keyId] };
    await expect(validateSenderCertificate(backend, cert, trust, NOW)).rejects.toThrow(
      /server key is revoked/,
    );
  });

  it('rejects an expired server certificate (valid through notAfter)', async () => {
    const short = await makeChain(NOW + DAY);
    const c = await issueSenderCertificate(backend, short.serverSeed, senderFields(short));
    await expect(
      validateSenderCertificate(backend, c, short.trust, NOW + DAY),
    ).resolves.toMatchObject({ address: ADDRESS, deviceId: 3, expires: NOW + 7 * DAY });
    await expect(validateSenderCertificate(backend, c, short.trust, NOW + DAY + 1)).rejects.toThrow(
      /server certificate expired/,
    );
  });

  it('rejects an expired sender certificate (valid while now < expires)', async () => {
    const expires = NOW + 7 * DAY;
    await expect(
      validateSenderCertificate(backend, cert, chain.trust, expires - 1),
    ).resolves.toMatchObject({ address: ADDRESS, deviceId: 3, expires });
    await expect(validateSenderCertificate(backend, cert, chain.trust, expires)).rejects.toThrow(
      /sender certificate expired/,
    );
  });

  it('rejects a bad sender signature', async () => {
    const bad = cert.slice();
    bad[bad.length - 20]! ^= 0x10;
    await expect(validateSenderCertificate(backend, bad, chain.trust, NOW)).rejects.toThrow(
      /not signed by the server key/,
    );
  });

  it('rejects a sender certificate signed by a key other than the certified server key', async () => {
    const fields = senderFields(chain);
    const signature = await backend.ed25519Sign(systemRng(32), senderCertificatePayload(fields));
    const forged = encodeSenderCertificate({ ...fields, signature });
    await expect(validateSenderCertificate(backend, forged, chain.trust, NOW)).rejects.toThrow(
      /not signed by the server key/,
    );
  });

  it('rejects a swapped franking key (it is covered by the server signature)', async () => {
    const swapped = cert.slice();
    // v2 layout: version, address (20), device id (4), identity key (32), franking key (32).
    swapped.set(systemRng(32), 1 + 20 + 4 + 32);
    await expect(validateSenderCertificate(backend, swapped, chain.trust, NOW)).rejects.toThrow(
      /not signed by the server key/,
    );
  });

  it('rejects any modified byte of the signed fields', async () => {
    for (let i = 0; i < cert.length; i += 9) {
      const bad = cert.slice();
      bad[i]! ^= 0x04;
      await expect(
        validateSenderCertificate(backend, bad, chain.trust, NOW),
        `byte ${i}`,
      ).rejects.toThrow(InvalidCertificateError);
    }
  });

  it('rejects malformed bytes as an invalid certificate', async () => {
    // A v1 certificate (240 bytes, no franking key) is another version: malformed here.
    const v1 = cert.slice(0, 240);
    v1[0] = 1;
    for (const bad of [new Uint8Array(0), cert.subarray(0, 100), new Uint8Array(272), v1]) {
      await expect(validateSenderCertificate(backend, bad, chain.trust, NOW)).rejects.toThrow(
        InvalidCertificateError,
      );
    }
  });

  it('checks its arguments', async () => {
    await expect(
      validateSenderCertificate(
        backend,
        cert,
        { ...chain.trust, trustRoot: new Uint8Array(31) },
        NOW,
      ),
    ).rejects.toThrow(ArgumentRangeError);
    await expect(validateSenderCertificate(backend, cert, chain.trust, Number.NaN)).rejects.toThrow(
      ArgumentTypeError,
    );
  });
});

describe('certificate issuing', () => {
  it('refuses to sign with a seed that does not match the server certificate', async () => {
    const chain = await makeChain();
    await expect(
      issueSenderCertificate(backend, systemRng(32), senderFields(chain)),
    ).rejects.toThrow(ArgumentRangeError);
  });

  it('issues certificates whose signatures cover exactly the documented payloads', async () => {
    const chain = await makeChain();
    const server = decodeServerCertificate(chain.serverCert);
    const { signature: serverSignature, ...serverFields } = server;
    expect(serverFields.notAfter).toBe(NOW + 30 * DAY);
    expect(
      await backend.ed25519Verify(
        chain.trust.trustRoot,
        serverCertificatePayload(serverFields),
        serverSignature,
      ),
    ).toBe(true);
    const sender = decodeSenderCertificate(
      await issueSenderCertificate(backend, chain.serverSeed, senderFields(chain)),
    );
    const { signature, ...fields } = sender;
    expect(fields).toEqual(senderFields(chain));
    expect(
      await backend.ed25519Verify(server.serverPublic, senderCertificatePayload(fields), signature),
    ).toBe(true);
  });
});

describe('validation cache', () => {
  it('verifies each signature once, yet re-checks expiry, revocation and root every time', async () => {
    const chain = await makeChain();
    const cert = await issueSenderCertificate(backend, chain.serverSeed, senderFields(chain));
    const c = counting(backend);
    await validateSenderCertificate(c.backend, cert, chain.trust, NOW);
    expect(c.verifies()).toBe(2);
    await validateSenderCertificate(c.backend, cert, chain.trust, NOW + 1);
    expect(c.verifies()).toBe(2);

    await expect(
      validateSenderCertificate(c.backend, cert, chain.trust, NOW + 7 * DAY),
    ).rejects.toThrow(/sender certificate expired/);
    const { keyId } = decodeServerCertificate(chain.serverCert);
    await expect(
      validateSenderCertificate(
        c.backend,
        cert,
        { ...chain.trust, revokedServerKeyIds: [keyId] },
        NOW,
      ),
    ).rejects.toThrow(/revoked/);
    const other = await makeChain();
    await expect(
      validateSenderCertificate(
        c.backend,
        cert,
        { ...chain.trust, trustRoot: other.trust.trustRoot },
        NOW,
      ),
    ).rejects.toThrow(/trust root/);
  });

  it('shares the server certificate check between senders and does not cache failures', async () => {
    const chain = await makeChain();
    const c = counting(backend);
    const a = await issueSenderCertificate(backend, chain.serverSeed, senderFields(chain));
    const b = await issueSenderCertificate(backend, chain.serverSeed, {
      ...senderFields(chain),
      deviceId: 4,
    });
    await validateSenderCertificate(c.backend, a, chain.trust, NOW);
    await validateSenderCertificate(c.backend, b, chain.trust, NOW);
    expect(c.verifies()).toBe(3);

    const bad = b.slice();
    bad[bad.length - 1]! ^= 1;
    await expect(validateSenderCertificate(c.backend, bad, chain.trust, NOW)).rejects.toThrow();
    await expect(validateSenderCertificate(c.backend, bad, chain.trust, NOW)).rejects.toThrow();
    expect(c.verifies()).toBe(5);
  });

  it('is bounded: old server certificates are evicted and verified again', async () => {
    const first = await makeChain();
    const firstCert = await issueSenderCertificate(backend, first.serverSeed, senderFields(first));
    const c = counting(backend);
    await validateSenderCertificate(c.backend, firstCert, first.trust, NOW);
    for (let i = 0; i < 16; i++) {
      const chain = await makeChain();
      const cert = await issueSenderCertificate(backend, chain.serverSeed, senderFields(chain));
      await validateSenderCertificate(backend, cert, chain.trust, NOW);
    }
    const before = c.verifies();
    // The sender entry is still cached (256 slots) but the server entry (16 slots) is not.
    await validateSenderCertificate(c.backend, firstCert, first.trust, NOW);
    expect(c.verifies() - before).toBe(1);
  });
});

describe('moderator certificate validation', () => {
  let chain: Chain;
  let moderatorPublic: Uint8Array;
  let cert: Uint8Array;
  beforeAll(async () => {
    chain = await makeChain();
    moderatorPublic = systemRng(32);
    cert = await issueModeratorCertificate(backend, chain.rootSeed, {
      keyId: 9,
      moderatorPublic,
      notAfter: NOW + 30 * DAY,
    });
  });

  it('issues a root signature over exactly the documented payload', async () => {
    const { signature, ...fields } = decodeModeratorCertificate(cert);
    expect(fields).toEqual({ keyId: 9, moderatorPublic, notAfter: NOW + 30 * DAY });
    expect(
      await backend.ed25519Verify(
        chain.trust.trustRoot,
        moderatorCertificatePayload(fields),
        signature,
      ),
    ).toBe(true);
  });

  it('accepts a valid certificate through notAfter and returns it decoded', async () => {
    const decoded = await validateModeratorCertificate(backend, cert, chain.trust, NOW + 30 * DAY);
    expect(decoded).toEqual(decodeModeratorCertificate(cert));
    await expect(
      validateModeratorCertificate(backend, cert, chain.trust, NOW + 30 * DAY + 1),
    ).rejects.toThrow(/moderator certificate expired/);
  });

  it('rejects another root, a revoked key id, a bad signature and malformed bytes', async () => {
    const other = await makeChain();
    await expect(
      validateModeratorCertificate(
        backend,
        cert,
        { ...chain.trust, trustRoot: other.trust.trustRoot },
        NOW,
      ),
    ).rejects.toThrow(/not signed by the trust root/);
    await expect(
      validateModeratorCertificate(
        backend,
        cert,
        { ...chain.trust, revokedModeratorKeyIds: [9] },
        NOW,
      ),
    ).rejects.toThrow(/moderator key is revoked/);
    // Revoked server ids do not revoke a moderator key with the same number.
    await expect(
      validateModeratorCertificate(
        backend,
        cert,
        { ...chain.trust, revokedServerKeyIds: [9] },
        NOW,
      ),
    ).resolves.toMatchObject({ keyId: 9 });
    const bad = cert.slice();
    bad[10]! ^= 1;
    await expect(validateModeratorCertificate(backend, bad, chain.trust, NOW)).rejects.toThrow(
      /not signed by the trust root/,
    );
    for (const malformed of [new Uint8Array(0), cert.subarray(0, 108), new Uint8Array(109)]) {
      await expect(
        validateModeratorCertificate(backend, malformed, chain.trust, NOW),
      ).rejects.toThrow(InvalidCertificateError);
    }
  });

  it('is not interchangeable with a server certificate signed by the same root', async () => {
    // Same body layout, different label: a server certificate re-labelled as a moderator one
    // carries a signature over the server label, which does not verify.
    const { keyId, serverPublic, notAfter, signature } = decodeServerCertificate(chain.serverCert);
    const relabelled = encodeModeratorCertificate({
      keyId,
      moderatorPublic: serverPublic,
      notAfter,
      signature,
    });
    await expect(
      validateModeratorCertificate(backend, relabelled, chain.trust, NOW),
    ).rejects.toThrow(/not signed by the trust root/);
  });
});
