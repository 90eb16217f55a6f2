import { describe, expect, it } from 'vitest';
import { ed25519Verify } from '#functions/domain/crypto.ts';
import { UnavailableError } from '#functions/domain/errors.ts';
import { toBase64Url } from '#sdk/wire/api/codec.ts';
import { base64UrlLength } from '#sdk/wire/api/fields.ts';
import { SENDER_CERTIFICATE_LIFETIME_MS } from '#sdk/wire/api/limits.ts';
import { ROUTES } from '#sdk/wire/api/routes.ts';
import { ACCOUNT_SIGNATURE_HEADER } from '#sdk/wire/api/signing.ts';
import {
  decodeSenderCertificate,
  decodeServerCertificate,
  senderCertificatePayload,
  serverCertificatePayload,
} from '#sdk/wire/certificates.ts';
import { IDENTITY_BUNDLE_BYTES } from '#sdk/wire/identity.ts';
import { harness, memoryPorts, testMaterial } from '../fixtures.ts';

/** The node of a parsed JSON document at `path` (keys and indexes), or undefined. */
function at(node: unknown, ...path: (string | number)[]): unknown {
  let here = node;
  for (const key of path) {
    if (typeof here !== 'object' || here === null) return undefined;
    here = (here as Record<string | number, unknown>)[key];
  }
  return here;
}

/** Follows a local `$ref` (`#/components/...`) of the document once. */
function deref(doc: unknown, node: unknown): unknown {
  const ref = at(node, '$ref');
  return typeof ref === 'string' ? at(doc, ...ref.slice(2).split('/')) : node;
}

describe('certificates', () => {
  it('publishes the server certificate and issues sender certificates that verify', async () => {
    const material = testMaterial();
    const h = harness(memoryPorts(material));
    const alice = await h.register();
    const server = await h.call({ method: 'GET', path: '/v1/certificates/server' });
    expect(server.body).toEqual({
      keyId: 7,
      serverCertificate: toBase64Url(material.serverCertificate),
      trustRoot: toBase64Url(material.trustRoot),
      moderatorCertificates: [toBase64Url(material.moderatorCertificate)],
    });
    const serverCert = decodeServerCertificate(material.serverCertificate);
    expect(
      ed25519Verify(material.trustRoot, serverCertificatePayload(serverCert), serverCert.signature),
    ).toBe(true);

    const res = await h.call({ method: 'POST', path: '/v1/certificates/sender', signer: alice });
    expect(res.status).toBe(200);
    expect(res.body.expires).toBe(h.clock.now + SENDER_CERTIFICATE_LIFETIME_MS);
    const cert = decodeSenderCertificate(
      Uint8Array.from(Buffer.from(res.body.certificate, 'base64url')),
    );
    expect(cert.address).toBe(alice.account.address);
    expect(cert.deviceId).toBe(1);
    expect(cert.identityKey).toEqual(alice.dhPublic);
    expect(cert.frankingKey).toEqual(alice.franking.publicKey);
    expect(cert.serverCertificate).toEqual(material.serverCertificate);
    expect(
      ed25519Verify(serverCert.serverPublic, senderCertificatePayload(cert), cert.signature),
    ).toBe(true);
    expect((await h.call({ method: 'POST', path: '/v1/certificates/sender' })).status).toBe(401);
  });
});

describe('contract and errors', () => {
  it('mounts every route of the table and publishes it in /openapi.json', async () => {
    const h = harness(memoryPorts(testMaterial()));
    const doc = (await h.call({ method: 'GET', path: '/openapi.json' })).json;
    expect(at(doc, 'openapi')).toBe('3.1.0');
    for (const r of ROUTES) {
      expect(at(doc, 'paths', r.path, r.method.toLowerCase(), 'operationId')).toBe(r.operationId);
      const concrete = r.path.replace('{address}', 'a'.repeat(32)).replace('{deviceId}', '1');
      const res = await h.call({ method: r.method, path: concrete });
      // Whatever the route answers without credentials, it is not the fallback of an unmounted path.
      expect(res.body.error?.message, r.operationId).not.toBe('no such route');
      expect(res.body.error?.code, r.operationId).not.toBe('METHOD_NOT_ALLOWED');
    }
    const ref = at(
      doc,
      'paths',
      '/v1/accounts/{address}',
      'put',
      'requestBody',
      'content',
      'application/json',
    );
    expect(at(ref, 'schema')).toEqual({ $ref: '#/components/schemas/RegisterRequest' });
    const register = deref(doc, at(ref, 'schema'));
    expect(at(register, 'properties', 'signedPrekey')).toEqual({
      $ref: '#/components/schemas/SignedPrekey',
    });
    expect(at(register, 'properties', 'identity')).toMatchObject({
      type: 'string',
      minLength: base64UrlLength(IDENTITY_BUNDLE_BYTES),
      maxLength: base64UrlLength(IDENTITY_BUNDLE_BYTES),
    });
    expect(at(register, 'additionalProperties')).toBe(false);
  });

  it('publishes the new codes, error fields and the account-signature header', async () => {
    const h = harness(memoryPorts(testMaterial()));
    const doc = (await h.call({ method: 'GET', path: '/openapi.json' })).json;
    const error = at(doc, 'components', 'schemas', 'Error', 'properties', 'error');
    expect(at(error, 'properties', 'code', 'enum')).toEqual(
      expect.arrayContaining(['CLOCK_SKEW', 'DEVICE_ID_TAKEN', 'FORBIDDEN']),
    );
    expect(at(error, 'properties', 'serverTime', 'type')).toBe('integer');
    expect(at(error, 'properties', 'freeDeviceIds', 'type')).toBe('array');
    const remove = at(doc, 'paths', '/v1/devices/{deviceId}', 'delete');
    const parameters = at(remove, 'parameters');
    expect((Array.isArray(parameters) ? parameters : []).map((p) => deref(doc, p))).toContainEqual(
      expect.objectContaining({ name: ACCOUNT_SIGNATURE_HEADER, in: 'header', required: false }),
    );
    expect(at(remove, 'responses', '403', 'description')).toContain('FORBIDDEN');
    expect(at(remove, 'responses', '401', 'description')).toContain('CLOCK_SKEW');
    const add = at(doc, 'paths', '/v1/accounts/{address}/devices');
    expect(at(add, 'post', 'responses', '409', 'description')).toContain('DEVICE_ID_TAKEN');
    expect(
      at(
        deref(doc, at(add, 'post', 'requestBody', 'content', 'application/json', 'schema')),
        'required',
      ),
    ).toContain('deviceId');
    expect(at(add, 'get', 'responses', '429', 'description')).toContain('RATE_LIMITED');
  });

  it('answers unknown routes 404 and wrong methods 405, both as JSON errors', async () => {
    const h = harness(memoryPorts(testMaterial()));
    const nf = await h.call({ method: 'GET', path: '/v2/nothing' });
    expect(nf.status).toBe(404);
    expect(nf.body.error.code).toBe('NOT_FOUND');
    const na = await h.call({ method: 'PATCH', path: '/v1/messages' });
    expect(na.status).toBe(405);
    expect(na.body.error.code).toBe('METHOD_NOT_ALLOWED');
  });

  it('turns storage faults into 503 and unknown failures into a bare 500, logging only the error class', async () => {
    const ports = memoryPorts(testMaterial());
    const h = harness(ports);
    const original = ports.accounts.get.bind(ports.accounts);
    ports.accounts.get = async () => {
      throw new UnavailableError();
    };
    expect(
      (await h.call({ method: 'GET', path: `/v1/bundles/${'a'.repeat(32)}`, headers: {} })).status,
    ).toBe(401);
    const unavailable = await h.call({
      method: 'PUT',
      path: `/v1/messages/${'a'.repeat(32)}`,
      json: { messageId: 'AAAAAAAAAAAAAAAAAAAAAA', envelopes: [{ deviceId: 1, envelope: 'AA' }] },
    });
    expect(unavailable.status).toBe(503);
    ports.accounts.get = async () => {
      throw new TypeError('secret detail 0xdeadbeef');
    };
    h.logs.length = 0;
    const internal = await h.call({
      method: 'PUT',
      path: `/v1/messages/${'a'.repeat(32)}`,
      json: { messageId: 'AAAAAAAAAAAAAAAAAAAAAA', envelopes: [{ deviceId: 1, envelope: 'AA' }] },
    });
    expect(internal.status).toBe(500);
    expect(internal.body).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
    expect(h.logs).toHaveLength(1);
    const line = JSON.parse(h.logs[0]!);
    expect(line).toMatchObject({
      level: 'error',
      status: 500,
      errorName: 'TypeError',
      route: '/v1/messages/:address',
    });
    expect(h.logs[0]).not.toContain('deadbeef');
    ports.accounts.get = original;
  });

  it('writes one structured log line with request id, route template and EMF metrics', async () => {
    const h = harness(memoryPorts(testMaterial()));
    const bob = await h.register();
    h.logs.length = 0;
    const res = await h.call({
      method: 'GET',
      path: '/v1/messages?limit=5',
      signer: bob,
      headers: { 'x-request-id': 'req-12345678' },
    });
    expect(res.headers.get('x-request-id')).toBe('req-12345678');
    const line = JSON.parse(h.logs[0]!);
    expect(line).toMatchObject({
      level: 'info',
      msg: 'request',
      requestId: 'req-12345678',
      method: 'GET',
      route: '/v1/messages',
      status: 200,
      requests: 1,
      serverErrors: 0,
    });
    expect(line._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'Sealpost',
      Dimensions: [['stage', 'route']],
    });
    expect(h.logs[0]).not.toContain(bob.account.address);
    const bad = await h.call({
      method: 'GET',
      path: '/v1/health',
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
