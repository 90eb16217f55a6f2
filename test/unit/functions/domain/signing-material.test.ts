import { describe, expect, it } from 'vitest';
import { configFromEnv, DEFAULT_CONFIG } from '#functions/domain/config.ts';
import {
  generateSigningMaterial,
  parseSigningSecret,
  signingSecretJson,
} from '#functions/domain/signing-material.ts';

describe('signing material', () => {
  it('round-trips the deployment secret JSON', () => {
    const { material } = generateSigningMaterial({ keyId: 3, notAfter: 2_000_000_000_000 });
    const json = JSON.stringify(signingSecretJson(material));
    expect(parseSigningSecret(json)).toEqual(material);
  });

  it('rejects a secret whose certificate does not certify the seed or key id, without echoing values', () => {
    const a = generateSigningMaterial({ keyId: 3, notAfter: 2_000_000_000_000 }).material;
    const b = generateSigningMaterial({ keyId: 3, notAfter: 2_000_000_000_000 }).material;
    const mixed = {
      ...signingSecretJson(a),
      serverCertificate: signingSecretJson(b).serverCertificate,
    };
    expect(() => parseSigningSecret(JSON.stringify(mixed))).toThrow(/does not certify/);
    const wrongId = { ...signingSecretJson(a), keyId: 4 };
    expect(() => parseSigningSecret(JSON.stringify(wrongId))).toThrow(/does not certify/);
    const short = { ...signingSecretJson(a), serverSeed: 'AAAA' };
    let message = '';
    try {
      parseSigningSecret(JSON.stringify(short));
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe('signing secret serverSeed must be 32 bytes');
    expect(() => parseSigningSecret('{')).toThrow(/not JSON/);
    expect(() =>
      parseSigningSecret(JSON.stringify({ ...signingSecretJson(a), version: 2 })),
    ).toThrow(/version/);
  });
});

describe('config', () => {
  it('reads the message TTL in days and rejects nonsense', () => {
    expect(configFromEnv({})).toBe(DEFAULT_CONFIG);
    expect(configFromEnv({ SEALPOST_MESSAGE_TTL_DAYS: '7' }).messageTtlMs).toBe(7 * 86_400_000);
    for (const bad of ['0', '-1', '1.5', 'x', '400']) {
      expect(() => configFromEnv({ SEALPOST_MESSAGE_TTL_DAYS: bad })).toThrow(RangeError);
    }
  });
});
