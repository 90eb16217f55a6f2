/**
 * One error root (docs/SDK.md §Errors): every error class the SDK exports extends
 * `SealpostError` and its instances carry a non-empty string `code`, and representative public
 * functions given bad arguments throw `SealpostError`s, never bare `TypeError`/`RangeError`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as clientExports from '#sdk/client/index.ts';
import * as rootExports from '#sdk/index.ts';
import * as fileStoreExports from '#sdk/state/file-store.ts';
import { decodeIdentityBundle, decodeSenderCertificate } from '#sdk/wire/index.ts';

const { SealpostError } = rootExports;
type ErrorClass = new (...args: unknown[]) => Error;

/** Constructor arguments for classes whose first argument is not just a message. */
const ARGS: Record<string, unknown[]> = {
  SealpostError: ['DECRYPT_FAILED', 'message'],
  TokenError: ['MALFORMED_TOKEN', 'message'],
  SealpostClientError: ['NETWORK', 'message'],
  ApiError: ['NOT_FOUND', 404, 'getBundle', 'message'],
  UntrustedIdentityError: ['aaaa'],
  IdentityChangedError: ['aaaa', 1],
  UnsupportedVersionError: [9],
  StoreConflictError: ['session', 'aaaa.1'],
  StaleDeviceLinkError: ['aaaa', 1],
  FileStoreError: ['LOCKED', 'message'],
  DeviceMismatchError: ['send', 'message', [1], [2]],
  StaleDevicesError: ['send', 'message', [1]],
  ClockSkewError: ['send', 'message', 0],
  DeviceIdTakenError: ['link', 'message', [2]],
  TimeoutError: ['send', 'https://example.test', 1000],
  AbortedError: ['send', undefined],
  SealedSendUnauthorizedError: ['aaaa'],
  DeviceRemovedError: ['aaaa', 1],
  UnreportableMessageError: ['commitment'],
};

function errorClasses(): [string, ErrorClass][] {
  const all = new Map<string, ErrorClass>();
  for (const mod of [rootExports, clientExports, fileStoreExports] as Record<string, unknown>[]) {
    for (const [name, value] of Object.entries(mod)) {
      if (name.endsWith('Error') && typeof value === 'function') all.set(name, value as ErrorClass);
    }
  }
  return [...all].sort(([a], [b]) => a.localeCompare(b));
}

/** The error `fn` throws or rejects with. */
async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('one error root', () => {
  const classes = errorClasses();

  it('finds the exported error classes of sealpost, its client and its file store', () => {
    const names = classes.map(([name]) => name);
    for (const name of ['SealpostError', 'ArgumentTypeError', 'FileStoreError', 'ApiError']) {
      expect(names).toContain(name);
    }
  });

  it.each(classes)('%s extends SealpostError and carries a string code', (name, Class) => {
    expect(Class === SealpostError || Class.prototype instanceof SealpostError).toBe(true);
    const instance = new Class(...(ARGS[name] ?? ['message']));
    expect(instance).toBeInstanceOf(SealpostError);
    expect(instance).toBeInstanceOf(Error);
    const code = (instance as InstanceType<typeof SealpostError>).code;
    expect(typeof code).toBe('string');
    expect(code.length).toBeGreaterThan(0);
    expect(instance.name).toBe(name);
  });

  it('public functions given bad arguments throw SealpostErrors with codes', async () => {
    const backend = rootExports.defaultBackend;
    const notBytes = 'not bytes' as unknown as Uint8Array;
    const dir = await mkdtemp(join(tmpdir(), 'sealpost-error-root-'));
    try {
      const store = new rootExports.MemoryStore();
      const cases: [string, () => unknown][] = [
        ['fromBase64Url', () => rootExports.fromBase64Url('***', 'field')],
        ['SealpostHttpClient', () => new rootExports.SealpostHttpClient({ baseUrl: 'not a url' })],
        ['address', () => rootExports.address(backend, new Uint8Array(3))],
        ['safetyNumber', () => rootExports.safetyNumber(backend, notBytes, new Uint8Array(32))],
        ['compareScannable', () => rootExports.compareScannable(new Uint8Array(2), notBytes)],
        [
          'validateSenderCertificate',
          () =>
            rootExports.validateSenderCertificate(
              backend,
              notBytes,
              { trustRoot: new Uint8Array(32) } as rootExports.TrustConfig,
              0,
            ),
        ],
        [
          'validateModeratorCertificate',
          () =>
            rootExports.validateModeratorCertificate(
              backend,
              notBytes,
              { trustRoot: new Uint8Array(32), revokedServerKeyIds: [] },
              0,
            ),
        ],
        ['deriveAccessKey', () => rootExports.deriveAccessKey(backend, notBytes)],
        ['MemoryStore.commit', () => store.commit([{ ns: 'meta', key: '', value: null }])],
        ['MemoryStore.get', () => store.get('meta', 'x'.repeat(300))],
        ['ProtocolEngine.open', () => rootExports.ProtocolEngine.open({ store } as never)],
        ['backend.x25519', () => backend.x25519(new Uint8Array(31), new Uint8Array(32))],
        ['backend.aeadOpen', () => backend.aeadOpen(notBytes, notBytes, notBytes, notBytes)],
        ['decodeIdentityBundle', () => decodeIdentityBundle(new Uint8Array(5))],
        ['decodeSenderCertificate', () => decodeSenderCertificate(new Uint8Array(5))],
        [
          'FileStore.open',
          () => fileStoreExports.FileStore.open(dir, { compactThresholdBytes: -1 }),
        ],
      ];
      const seen: string[] = [];
      for (const [name, fn] of cases) {
        const err = await thrown(fn);
        expect(err, name).toBeInstanceOf(SealpostError);
        const code = (err as InstanceType<typeof SealpostError>).code;
        expect(typeof code, name).toBe('string');
        seen.push(`${name}: ${code}`);
      }
      expect(seen).toHaveLength(cases.length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
