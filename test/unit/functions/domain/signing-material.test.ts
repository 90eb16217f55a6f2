import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateSigningMaterial } from '#functions/api/local.ts';
import { parseDeploymentEnv } from '#functions/deployment.ts';
import { configFromEnv, DEFAULT_CONFIG, withReportWindowDays } from '#functions/domain/config.ts';
import { ed25519Verify, randomBytes } from '#functions/domain/crypto.ts';
import {
  generateSigningMaterial,
  parseSigningSecret,
  signingSecretJson,
  upgradeSigningSecret,
} from '#functions/domain/signing-material.ts';
import { frankingPublicKey, generateFrankingKeyPair } from '#sdk/franking/index.ts';
import { toBase64Url } from '#sdk/util/bytes.ts';
import { decodeModeratorCertificate, moderatorCertificatePayload } from '#sdk/wire/certificates.ts';

describe('signing material', () => {
  it('round-trips the deployment secret JSON (version 2, moderator key and stamp secret)', () => {
    const { material } = generateSigningMaterial({ keyId: 3, notAfter: 2_000_000_000_000 });
    const json = signingSecretJson(material);
    expect(json.version).toBe(2);
    expect(Object.keys(json).sort()).toEqual(
      [
        'keyId',
        'moderatorCertificate',
        'moderatorKeyId',
        'moderatorSecret',
        'serverCertificate',
        'serverSeed',
        'stampSecret',
        'trustRoot',
        'version',
      ].sort(),
    );
    expect(parseSigningSecret(JSON.stringify(json))).toEqual(material);
    expect(material.moderatorKeyId).toBe(3);
    expect(material.moderatorPublic).toEqual(frankingPublicKey(material.moderatorSecret));
    expect(material.stampSecret).toHaveLength(32);
    const cert = decodeModeratorCertificate(material.moderatorCertificate);
    expect(cert).toMatchObject({ keyId: 3, notAfter: 2_000_000_000_000 });
    expect(cert.moderatorPublic).toEqual(material.moderatorPublic);
    expect(
      ed25519Verify(material.trustRoot, moderatorCertificatePayload(cert), cert.signature),
    ).toBe(true);
  });

  it('uses a given moderator key id and secret, and fresh secrets otherwise', () => {
    const secret = generateFrankingKeyPair(randomBytes).secretKey;
    const a = generateSigningMaterial({
      keyId: 3,
      notAfter: 2_000_000_000_000,
      moderatorKeyId: 9,
      moderatorSecret: secret,
    }).material;
    expect(a.moderatorKeyId).toBe(9);
    expect(a.moderatorSecret).toEqual(secret);
    const b = generateSigningMaterial({ keyId: 3, notAfter: 2_000_000_000_000 }).material;
    const c = generateSigningMaterial({ keyId: 3, notAfter: 2_000_000_000_000 }).material;
    expect(b.moderatorSecret).not.toEqual(c.moderatorSecret);
    expect(b.stampSecret).not.toEqual(c.stampSecret);
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
      parseSigningSecret(JSON.stringify({ ...signingSecretJson(a), version: 1 })),
    ).toThrow(/version must be 2/);
  });

  it('rejects a moderator certificate that does not certify the moderator secret, its key id or the root', () => {
    const a = generateSigningMaterial({ keyId: 3, notAfter: 2_000_000_000_000 }).material;
    const b = generateSigningMaterial({ keyId: 3, notAfter: 2_000_000_000_000 }).material;
    const json = signingSecretJson(a);
    const fail = (changes: Partial<typeof json>) => {
      const text = JSON.stringify({ ...json, ...changes });
      try {
        parseSigningSecret(text);
      } catch (err) {
        const message = (err as Error).message;
        // Never a value of the secret in the message.
        for (const value of Object.values(json)) {
          if (typeof value === 'string') expect(message).not.toContain(value);
        }
        return message;
      }
      throw new Error('accepted');
    };
    // Another deployment's certificate (another key, another root).
    expect(fail({ moderatorCertificate: signingSecretJson(b).moderatorCertificate })).toMatch(
      /moderatorCertificate does not certify/,
    );
    // Another secret than the one certified.
    expect(fail({ moderatorSecret: signingSecretJson(b).moderatorSecret })).toMatch(
      /does not certify/,
    );
    expect(fail({ moderatorKeyId: 4 })).toMatch(/does not certify/);
    // The right key and id, certified by another root.
    const other = generateSigningMaterial({
      keyId: 3,
      notAfter: 2_000_000_000_000,
      moderatorSecret: a.moderatorSecret,
    }).material;
    expect(fail({ moderatorCertificate: toBase64Url(other.moderatorCertificate) })).toMatch(
      /not signed by trustRoot/,
    );
    expect(fail({ moderatorSecret: toBase64Url(new Uint8Array(32).fill(0xff)) })).toMatch(
      /moderatorSecret is not a ristretto255 scalar/,
    );
    expect(fail({ moderatorCertificate: 'AAAA' })).toMatch(/not a moderator certificate/);
    expect(fail({ stampSecret: 'AAAA' })).toBe('signing secret stampSecret must be 32 bytes');
  });
});

describe('local signing.json', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sealpost-signing-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a version-2 file once (mode 0600) and reads it back', async () => {
    const first = await loadOrCreateSigningMaterial(dir);
    const file = join(dir, 'signing.json');
    expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
    expect(JSON.parse(readFileSync(file, 'utf8')).version).toBe(2);
    expect(await loadOrCreateSigningMaterial(dir)).toEqual(first);
  });

  it('upgrades a version-1 file in place: same keys, a moderator key certified by the stored root', async () => {
    const { material, rootSeed } = generateSigningMaterial({
      keyId: 5,
      notAfter: 2_000_000_000_000,
    });
    const v1 = {
      version: 1,
      keyId: 5,
      serverSeed: toBase64Url(material.serverSeed),
      serverCertificate: toBase64Url(material.serverCertificate),
      trustRoot: toBase64Url(material.trustRoot),
      trustRootSeed: toBase64Url(rootSeed),
    };
    const file = join(dir, 'signing.json');
    writeFileSync(file, JSON.stringify(v1), { mode: 0o600 });
    const upgraded = await loadOrCreateSigningMaterial(dir);
    expect(upgraded.keyId).toBe(5);
    expect(upgraded.serverSeed).toEqual(material.serverSeed);
    expect(upgraded.serverCertificate).toEqual(material.serverCertificate);
    expect(upgraded.trustRoot).toEqual(material.trustRoot);
    expect(upgraded.moderatorKeyId).toBe(5);
    // A new moderator key, not the one generated above.
    expect(upgraded.moderatorSecret).not.toEqual(material.moderatorSecret);
    const cert = decodeModeratorCertificate(upgraded.moderatorCertificate);
    expect(cert.notAfter).toBe(2_000_000_000_000);
    expect(
      ed25519Verify(material.trustRoot, moderatorCertificatePayload(cert), cert.signature),
    ).toBe(true);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    expect(stored.version).toBe(2);
    expect(stored.trustRootSeed).toBe(v1.trustRootSeed);
    expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
    expect(readdirSync(dir)).toEqual(['signing.json']);
    // Upgraded once: the next start reads the same material.
    expect(await loadOrCreateSigningMaterial(dir)).toEqual(upgraded);
  });

  it('refuses to upgrade with a root seed that is not the trust root', () => {
    const { material } = generateSigningMaterial({ keyId: 5, notAfter: 2_000_000_000_000 });
    const v1 = JSON.stringify({ ...signingSecretJson(material), version: 1 });
    expect(() => upgradeSigningSecret(v1, new Uint8Array(32).fill(1))).toThrow(
      /trustRoot is not the public key/,
    );
    expect(() =>
      upgradeSigningSecret(JSON.stringify(signingSecretJson(material)), new Uint8Array(32)),
    ).toThrow(/must be version 1/);
  });
});

describe('report window (SEALPOST_REPORT_WINDOW_DAYS)', () => {
  const env = {
    SEALPOST_TABLE: 'Sealpost-prod-MailboxTable-1A2B',
    SEALPOST_BUCKET: 'sealpost-prod-envelopes-1a2b',
    SEALPOST_SIGNING_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-AbCdEf',
  };

  it('defaults to 30 days and reads 1..180', () => {
    expect(DEFAULT_CONFIG.reportWindowMs).toBe(30 * 86_400_000);
    expect(parseDeploymentEnv(env).reportWindowDays).toBe(30);
    expect(
      parseDeploymentEnv({ ...env, SEALPOST_REPORT_WINDOW_DAYS: '180' }).reportWindowDays,
    ).toBe(180);
    expect(withReportWindowDays(DEFAULT_CONFIG, 7).reportWindowMs).toBe(7 * 86_400_000);
  });

  it('refuses anything else, naming the variable', () => {
    // Empty counts as unset, like every optional variable of the contract.
    expect(parseDeploymentEnv({ ...env, SEALPOST_REPORT_WINDOW_DAYS: '' }).reportWindowDays).toBe(
      30,
    );
    for (const bad of ['0', '181', '1.5', '-1', 'x', '0030']) {
      expect(() => parseDeploymentEnv({ ...env, SEALPOST_REPORT_WINDOW_DAYS: bad })).toThrow(
        /SEALPOST_REPORT_WINDOW_DAYS/,
      );
    }
    for (const bad of [0, 181, 1.5]) {
      expect(() => withReportWindowDays(DEFAULT_CONFIG, bad)).toThrow(RangeError);
    }
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
