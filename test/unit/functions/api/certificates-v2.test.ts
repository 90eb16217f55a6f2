/**
 * Device franking keys and the certificates of franking (docs/SERVICE.md §4, §5, §6;
 * docs/PROTOCOL.md §11.1-§11.2): registration and linking refuse a franking key that is not a
 * ristretto255 public key with a 400 naming the field, bundles serve the registered key, sender
 * certificates are version 2 and name it, and the certificate routes publish the moderator
 * certificate.
 */
import { ristretto255 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { nobleBackend } from '#sdk/crypto/noble-backend.ts';
import { frankingPublicKey } from '#sdk/franking/index.ts';
import {
  validateModeratorCertificate,
  validateSenderCertificate,
} from '#sdk/protocol/certificates.ts';
import { fromBase64Url, toBase64Url } from '#sdk/wire/api/codec.ts';
import type { BundleResponse } from '#sdk/wire/api/schemas.ts';
import { decodeSenderCertificate } from '#sdk/wire/certificates.ts';
import {
  addDeviceBody,
  harness,
  memoryPorts,
  newAccount,
  newDevice,
  registrationBody,
  testMaterial,
} from '../fixtures.ts';

const setup = () => {
  const material = testMaterial();
  return { material, h: harness(memoryPorts(material)) };
};

const trustOf = (material: ReturnType<typeof testMaterial>) => ({
  trustRoot: material.trustRoot,
  revokedServerKeyIds: [],
});

/** Franking keys the service must refuse, each with why. */
const BAD_KEYS: [string, Uint8Array][] = [
  ['the identity point', ristretto255.Point.ZERO.toBytes()],
  ['a non-canonical encoding (all 0xff)', new Uint8Array(32).fill(0xff)],
  // A field element above p is not canonical; 0xed...7f is p itself.
  [
    'p as a field element',
    Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 0xed : i === 31 ? 0x7f : 0xff)),
  ],
  ['an odd (negative) field element', Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0))],
];

describe('device franking keys', () => {
  it('registration stores the franking key and bundles serve it', async () => {
    const { h } = setup();
    const bob = await h.register();
    const alice = await h.register();
    const view = await h.ports.accounts.get(bob.account.address);
    expect(view?.devices[0]?.frankingKey).toEqual(bob.franking.publicKey);
    const res = await h.call({
      method: 'GET',
      path: `/v1/bundles/${bob.account.address}`,
      signer: alice,
    });
    expect(res.status).toBe(200);
    expect((res.json as BundleResponse).devices.map((d) => d.frankingKey)).toEqual([
      toBase64Url(bob.franking.publicKey),
    ]);
    const linked = await h.link(bob.account);
    const both = await h.call({
      method: 'GET',
      path: `/v1/bundles/${bob.account.address}`,
      signer: alice,
    });
    expect((both.json as BundleResponse).devices.map((d) => [d.deviceId, d.frankingKey])).toEqual([
      [1, toBase64Url(bob.franking.publicKey)],
      [2, toBase64Url(linked.franking.publicKey)],
    ]);
  });

  it.each(BAD_KEYS)(
    'registration with %s as franking key is a 400 naming the field',
    async (_, key) => {
      const { h } = setup();
      const d = newDevice(newAccount());
      const res = await h.call({
        method: 'PUT',
        path: `/v1/accounts/${d.account.address}`,
        json: { ...registrationBody(d, h.clock.now), frankingKey: toBase64Url(key) },
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(res.body.error.code).toBe('BAD_REQUEST');
      expect(res.body.error.message).toMatch(/frankingKey/);
      expect(await h.ports.accounts.get(d.account.address)).toBeUndefined();
    },
  );

  it.each(BAD_KEYS)('linking a device with %s as franking key is a 400', async (_, key) => {
    const { h } = setup();
    const owner = await h.register();
    const d = newDevice(owner.account, 2);
    const res = await h.call({
      method: 'POST',
      path: `/v1/accounts/${owner.account.address}/devices`,
      json: { ...addDeviceBody(d, h.clock.now), frankingKey: toBase64Url(key) },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('BAD_REQUEST');
    expect(res.body.error.message).toMatch(/frankingKey/);
    expect((await h.ports.accounts.get(owner.account.address))?.devices).toHaveLength(1);
  });

  it('a missing or wrongly sized franking key is refused by the schema (400 naming it)', async () => {
    const { h } = setup();
    const d = newDevice(newAccount());
    const { frankingKey: _, ...without } = registrationBody(d, h.clock.now);
    const path = `/v1/accounts/${d.account.address}`;
    for (const json of [
      without,
      { ...without, frankingKey: toBase64Url(new Uint8Array(31).fill(1)) },
      { ...without, frankingKey: 'not base64url!' },
    ]) {
      const res = await h.call({ method: 'PUT', path, json });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('BAD_REQUEST');
      expect(res.body.error.message).toMatch(/frankingKey/);
    }
  });
});

describe('certificates', () => {
  it('sender certificates are version 2 and name the device franking key', async () => {
    const { h, material } = setup();
    const alice = await h.register();
    const second = await h.link(alice.account);
    for (const device of [alice, second]) {
      const res = await h.call({ method: 'POST', path: '/v1/certificates/sender', signer: device });
      expect(res.status).toBe(200);
      const bytes = fromBase64Url(res.body.certificate);
      expect(bytes[0]).toBe(2);
      const cert = decodeSenderCertificate(bytes);
      expect(cert.frankingKey).toEqual(device.franking.publicKey);
      expect(cert).toMatchObject({ address: alice.account.address, deviceId: device.deviceId });
      const valid = await validateSenderCertificate(
        nobleBackend,
        bytes,
        trustOf(material),
        h.clock.now,
      );
      expect(valid.frankingKey).toEqual(device.franking.publicKey);
      expect(res.body.moderatorCertificate).toBe(toBase64Url(material.moderatorCertificate));
    }
  });

  it('the server certificate route lists the moderator certificate, valid under the trust root', async () => {
    const { h, material } = setup();
    const res = await h.call({ method: 'GET', path: '/v1/certificates/server' });
    expect(res.status).toBe(200);
    expect(res.body.moderatorCertificates).toEqual([toBase64Url(material.moderatorCertificate)]);
    const bytes = fromBase64Url(res.body.moderatorCertificates[0]!);
    expect(bytes).toHaveLength(109);
    const cert = await validateModeratorCertificate(
      nobleBackend,
      bytes,
      trustOf(material),
      h.clock.now,
    );
    expect(cert.keyId).toBe(material.moderatorKeyId);
    expect(cert.moderatorPublic).toEqual(frankingPublicKey(material.moderatorSecret));
    // Nothing secret is published.
    const text = JSON.stringify(res.json);
    expect(text).not.toContain(toBase64Url(material.moderatorSecret));
    expect(text).not.toContain(toBase64Url(material.stampSecret));
  });
});
