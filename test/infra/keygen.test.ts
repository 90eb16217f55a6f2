import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_CERTIFICATE_VALIDITY_DAYS,
  type KeygenDeps,
  type KeygenEvent,
  onEvent,
} from '#infra/keygen/keygen.ts';
import { nobleBackend } from '#sdk/crypto/noble-backend.ts';
import { frankingPublicKey } from '#sdk/franking/index.ts';
import {
  issueSenderCertificate,
  validateModeratorCertificate,
  validateSenderCertificate,
} from '#sdk/protocol/certificates.ts';
import { fromBase64Url } from '#sdk/util/bytes.ts';
import { decodeServerCertificate, serverCertificatePayload } from '#sdk/wire/certificates.ts';

const ROOT_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:root-AbCdEf';
const SIGNING_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:signing-AbCdEf';
const NOW = 1_800_000_000_000;
const DAY_MS = 86_400_000;

const properties = {
  RootSecretArn: ROOT_ARN,
  SigningSecretArn: SIGNING_ARN,
  KeyId: '7',
  CertificateValidityDays: String(DEFAULT_CERTIFICATE_VALIDITY_DAYS),
};

function recorder(): KeygenDeps & { writes: [string, string][] } {
  const writes: [string, string][] = [];
  return {
    writes,
    now: () => NOW,
    putSecretValue: async (id, value) => {
      writes.push([id, value]);
    },
  };
}

const create = (props: Partial<typeof properties> = {}): KeygenEvent => ({
  RequestType: 'Create',
  ResourceProperties: { ...properties, ...props },
});

let consoleSpies: ReturnType<typeof vi.spyOn>[];
beforeEach(() => {
  consoleSpies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) =>
    vi.spyOn(console, m).mockImplementation(() => {}),
  );
});
afterEach(() => {
  for (const spy of consoleSpies) {
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  }
});

describe('Create', () => {
  it('stores the root secret first, then the signing secret in the contract layout', async () => {
    const deps = recorder();
    await onEvent(create(), deps);
    expect(deps.writes.map(([id]) => id)).toEqual([ROOT_ARN, SIGNING_ARN]);
    const root = JSON.parse(deps.writes[0]![1]);
    const signing = JSON.parse(deps.writes[1]![1]);
    expect(Object.keys(root).sort()).toEqual(['rootSeed', 'trustRoot', 'version']);
    expect(Object.keys(signing).sort()).toEqual(
      [
        'keyId',
        'serverCertificate',
        'serverSeed',
        'trustRoot',
        'version',
        'moderatorKeyId',
        'moderatorSecret',
        'moderatorCertificate',
        'stampSecret',
      ].sort(),
    );
    expect(root.version).toBe(1);
    expect(signing.version).toBe(2);
    expect(signing.moderatorKeyId).toBe(7);
    expect(fromBase64Url(signing.moderatorSecret)).toHaveLength(32);
    expect(fromBase64Url(signing.stampSecret)).toHaveLength(32);
    expect(signing.keyId).toBe(7);
    expect(signing.trustRoot).toBe(root.trustRoot);
    expect(fromBase64Url(root.rootSeed)).toHaveLength(32);
    expect(fromBase64Url(signing.serverSeed)).toHaveLength(32);
  });

  it('returns only the trust root, which is the public key of the stored root seed', async () => {
    const deps = recorder();
    const res = await onEvent(create(), deps);
    const root = JSON.parse(deps.writes[0]![1]);
    const signing = JSON.parse(deps.writes[1]![1]);
    expect(res).toEqual({
      PhysicalResourceId: root.trustRoot,
      Data: { TrustRoot: root.trustRoot },
    });
    const derived = await nobleBackend.ed25519PublicKey(fromBase64Url(root.rootSeed));
    expect(fromBase64Url(root.trustRoot)).toEqual(derived);
    const text = JSON.stringify(res);
    expect(text).not.toContain(root.rootSeed);
    expect(text).not.toContain(signing.serverSeed);
    expect(text).not.toContain(signing.moderatorSecret);
    expect(text).not.toContain(signing.stampSecret);
  });

  it('certifies the moderator key with the trust root for as long as the server key (PROTOCOL.md §11.2)', async () => {
    const deps = recorder();
    await onEvent(create(), deps);
    const signing = JSON.parse(deps.writes[1]![1]);
    const trust = { trustRoot: fromBase64Url(signing.trustRoot), revokedServerKeyIds: [] };
    const bytes = fromBase64Url(signing.moderatorCertificate);
    expect(bytes).toHaveLength(109);
    const cert = await validateModeratorCertificate(nobleBackend, bytes, trust, NOW);
    expect(cert.keyId).toBe(7);
    expect(cert.notAfter).toBe(NOW + DEFAULT_CERTIFICATE_VALIDITY_DAYS * DAY_MS);
    expect(cert.moderatorPublic).toEqual(frankingPublicKey(fromBase64Url(signing.moderatorSecret)));
    const otherRoot = { trustRoot: new Uint8Array(32).fill(1), revokedServerKeyIds: [] };
    await expect(
      validateModeratorCertificate(nobleBackend, bytes, otherRoot, NOW),
    ).rejects.toMatchObject({ code: 'INVALID_CERTIFICATE' });
  });

  it('certifies the server key with the trust root (PROTOCOL.md §6 layout and label)', async () => {
    const deps = recorder();
    await onEvent(create(), deps);
    const signing = JSON.parse(deps.writes[1]![1]);
    const trustRoot = fromBase64Url(signing.trustRoot);
    const cert = decodeServerCertificate(fromBase64Url(signing.serverCertificate));
    expect(fromBase64Url(signing.serverCertificate)).toHaveLength(109);
    expect(cert.keyId).toBe(7);
    expect(cert.notAfter).toBe(NOW + DEFAULT_CERTIFICATE_VALIDITY_DAYS * DAY_MS);
    expect(cert.serverPublic).toEqual(
      await nobleBackend.ed25519PublicKey(fromBase64Url(signing.serverSeed)),
    );
    const payload = serverCertificatePayload(cert);
    expect(await nobleBackend.ed25519Verify(trustRoot, payload, cert.signature)).toBe(true);
    const tampered = serverCertificatePayload({ ...cert, keyId: 8 });
    expect(await nobleBackend.ed25519Verify(trustRoot, tampered, cert.signature)).toBe(false);
  });

  it('produces material the SDK accepts end to end (sender certificate chain)', async () => {
    const deps = recorder();
    await onEvent(create(), deps);
    const signing = JSON.parse(deps.writes[1]![1]);
    const serverCertificate = fromBase64Url(signing.serverCertificate);
    const fields = {
      address: 'abcdefghijklmnopqrstuvwxyz234567',
      deviceId: 1,
      identityKey: new Uint8Array(32).fill(9),
      frankingKey: new Uint8Array(32).fill(8),
      expires: NOW + 7 * DAY_MS,
      serverCertificate,
    };
    const sender = await issueSenderCertificate(
      nobleBackend,
      fromBase64Url(signing.serverSeed),
      fields,
    );
    const trust = { trustRoot: fromBase64Url(signing.trustRoot), revokedServerKeyIds: [] };
    const valid = await validateSenderCertificate(nobleBackend, sender, trust, NOW + DAY_MS);
    expect(valid.address).toBe(fields.address);
    const otherRoot = { trustRoot: new Uint8Array(32).fill(1), revokedServerKeyIds: [] };
    await expect(
      validateSenderCertificate(nobleBackend, sender, otherRoot, NOW + DAY_MS),
    ).rejects.toMatchObject({ code: 'INVALID_CERTIFICATE' });
  });

  it('writes a signing secret the service accepts', async () => {
    const { parseSigningSecret } = await import('#functions/domain/signing-material.ts');
    const deps = recorder();
    await onEvent(create(), deps);
    const signing = JSON.parse(deps.writes[1]![1]);
    const material = parseSigningSecret(deps.writes[1]![1]);
    expect(material.keyId).toBe(7);
    expect(material.trustRoot).toEqual(fromBase64Url(signing.trustRoot));
    expect(material.moderatorKeyId).toBe(7);
    expect(material.stampSecret).toEqual(fromBase64Url(signing.stampSecret));
    expect(() => parseSigningSecret(deps.writes[0]![1])).toThrow();
  });

  it('generates fresh keys on every stack creation', async () => {
    const a = recorder();
    const b = recorder();
    const ra = await onEvent(create(), a);
    const rb = await onEvent(create(), b);
    expect(ra.PhysicalResourceId).not.toBe(rb.PhysicalResourceId);
    const [sa, sb] = [JSON.parse(a.writes[1]![1]), JSON.parse(b.writes[1]![1])];
    expect(sa.serverSeed).not.toBe(sb.serverSeed);
    expect(sa.moderatorSecret).not.toBe(sb.moderatorSecret);
    expect(sa.stampSecret).not.toBe(sb.stampSecret);
  });

  it.each([
    [{ KeyId: '0' }, RangeError],
    [{ KeyId: '4294967296' }, RangeError],
    [{ KeyId: '1.5' }, RangeError],
    [{ CertificateValidityDays: '0' }, RangeError],
    [{ CertificateValidityDays: '3651' }, RangeError],
    [{ RootSecretArn: 'root' }, TypeError],
    [{ SigningSecretArn: '' }, TypeError],
  ])('rejects %o before writing anything', async (bad, type) => {
    const deps = recorder();
    await expect(onEvent(create(bad), deps)).rejects.toBeInstanceOf(type);
    expect(deps.writes).toEqual([]);
  });

  it('fails the deployment when a secret cannot be stored, without secret data in the error', async () => {
    const written: string[] = [];
    const deps: KeygenDeps = {
      now: () => NOW,
      putSecretValue: async (id, value) => {
        if (id === SIGNING_ARN) throw new Error('AccessDeniedException');
        written.push(value);
      },
    };
    const err = await onEvent(create(), deps).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    const rootSeed = JSON.parse(written[0]!).rootSeed as string;
    expect(String((err as Error).message)).not.toContain(rootSeed);
  });
});

describe('Update and Delete', () => {
  const trustRoot = 'A'.repeat(43);

  it('Update keeps the keys and reports the same trust root', async () => {
    const deps = recorder();
    const res = await onEvent(
      { RequestType: 'Update', PhysicalResourceId: trustRoot, ResourceProperties: properties },
      deps,
    );
    expect(res).toEqual({ PhysicalResourceId: trustRoot, Data: { TrustRoot: trustRoot } });
    expect(deps.writes).toEqual([]);
  });

  it('Update keeps the keys when only public parameters change', async () => {
    const deps = recorder();
    const res = await onEvent(
      {
        RequestType: 'Update',
        PhysicalResourceId: trustRoot,
        ResourceProperties: { ...properties, CertificateValidityDays: '90' },
        OldResourceProperties: properties,
      },
      deps,
    );
    expect(res.PhysicalResourceId).toBe(trustRoot);
    expect(deps.writes).toEqual([]);
  });

  it('Update fails when a key secret was replaced (it would hold no key)', async () => {
    const deps = recorder();
    await expect(
      onEvent(
        {
          RequestType: 'Update',
          PhysicalResourceId: trustRoot,
          ResourceProperties: { ...properties, SigningSecretArn: `${SIGNING_ARN}-new` },
          OldResourceProperties: properties,
        },
        deps,
      ),
    ).rejects.toThrow(/replaced/);
    expect(deps.writes).toEqual([]);
  });

  it('Update refuses a physical id that is not a trust root', async () => {
    await expect(
      onEvent(
        { RequestType: 'Update', PhysicalResourceId: 'x', ResourceProperties: properties },
        recorder(),
      ),
    ).rejects.toBeInstanceOf(RangeError);
  });

  it('Delete writes nothing (the secrets follow their removal policy)', async () => {
    const deps = recorder();
    const res = await onEvent(
      { RequestType: 'Delete', PhysicalResourceId: trustRoot, ResourceProperties: properties },
      deps,
    );
    expect(res).toEqual({ PhysicalResourceId: trustRoot });
    expect(deps.writes).toEqual([]);
  });
});

describe('Lambda entry', () => {
  it('writes both secrets through Secrets Manager PutSecretValue', async () => {
    const { mockClient } = await import('aws-sdk-client-mock');
    const { PutSecretValueCommand, SecretsManagerClient } = await import(
      '@aws-sdk/client-secrets-manager'
    );
    const sm = mockClient(SecretsManagerClient);
    sm.on(PutSecretValueCommand).resolves({});
    try {
      const { handler } = await import('#infra/keygen/handler.ts');
      const res = await handler(create());
      const calls = sm.commandCalls(PutSecretValueCommand).map((c) => c.args[0].input);
      expect(calls.map((c) => c.SecretId)).toEqual([ROOT_ARN, SIGNING_ARN]);
      expect(JSON.parse(calls[1]!.SecretString!).trustRoot).toBe(res.PhysicalResourceId);
    } finally {
      sm.restore();
    }
  });
});
