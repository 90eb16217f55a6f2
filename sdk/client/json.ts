/**
 * Conversions between the protocol engine's byte structures and the service API's JSON shapes
 * (`sdk/wire/api/schemas.ts`: every byte field is unpadded base64url). Responses reach these
 * functions only after their schema check, so lengths are already bounded; the engine verifies
 * every signature before a key is used.
 */
import type { PrekeyUpload as EnginePrekeyUpload } from '../protocol/prekey-manager.ts';
import { fromBase64Url, toBase64Url } from '../wire/api/codec.ts';
import type {
  BundleDevice,
  KemPrekeyJson,
  PrekeyUpload,
  SignedPrekeyJson,
} from '../wire/api/schemas.ts';
import { decodeIdentityBundle } from '../wire/identity.ts';
import type { KemPrekey, PrekeyBundle, SignedPrekey } from '../wire/prekeys.ts';

/**
 * The JSON form of a signed prekey.
 *
 * @example signedPrekeyJson(upload.signedPrekey)
 */
export function signedPrekeyJson(k: SignedPrekey): SignedPrekeyJson {
  return { id: k.id, publicKey: toBase64Url(k.publicKey), signature: toBase64Url(k.signature) };
}

/**
 * The JSON form of a KEM prekey (its kind is implied by the field it travels in).
 *
 * @example kemPrekeyJson(upload.lastResortKemPrekey)
 */
export function kemPrekeyJson(k: KemPrekey): KemPrekeyJson {
  return { id: k.id, publicKey: toBase64Url(k.publicKey), signature: toBase64Url(k.signature) };
}

/**
 * The `PUT /v1/prekeys` body for what the engine generated (empty lists are left out).
 *
 * @example await http.uploadPrekeys(prekeyUploadJson(await engine.generatePrekeys({ oneTime: 100 })));
 */
export function prekeyUploadJson(u: EnginePrekeyUpload): PrekeyUpload {
  const body: {
    signedPrekey?: SignedPrekeyJson;
    lastResortKemPrekey?: KemPrekeyJson;
    oneTimePrekeys?: { id: number; publicKey: string }[];
    kemPrekeys?: KemPrekeyJson[];
  } = {};
  if (u.signedPrekey) body.signedPrekey = signedPrekeyJson(u.signedPrekey);
  if (u.lastResortKemPrekey) body.lastResortKemPrekey = kemPrekeyJson(u.lastResortKemPrekey);
  if (u.oneTimePrekeys.length > 0) {
    body.oneTimePrekeys = u.oneTimePrekeys.map((k) => ({
      id: k.id,
      publicKey: toBase64Url(k.publicKey),
    }));
  }
  if (u.kemPrekeys.length > 0) body.kemPrekeys = u.kemPrekeys.map(kemPrekeyJson);
  return body;
}

/**
 * A device bundle from `GET /v1/bundles/...` as the engine's {@link PrekeyBundle}.
 *
 * @example await engine.startSession(bundleFromJson(res.address, res.devices[0]));
 * @throws {MalformedEnvelopeError | TypeError | RangeError} if a field does not decode.
 */
export function bundleFromJson(address: string, d: BundleDevice): PrekeyBundle {
  const b = (s: string, name: string) => fromBase64Url(s, name);
  const base = {
    address,
    deviceId: d.deviceId,
    identity: decodeIdentityBundle(b(d.identity, 'identity')),
    signedPrekey: {
      id: d.signedPrekey.id,
      publicKey: b(d.signedPrekey.publicKey, 'signedPrekey.publicKey'),
      signature: b(d.signedPrekey.signature, 'signedPrekey.signature'),
    },
    kemPrekey: {
      id: d.kemPrekey.id,
      publicKey: b(d.kemPrekey.publicKey, 'kemPrekey.publicKey'),
      signature: b(d.kemPrekey.signature, 'kemPrekey.signature'),
      lastResort: d.kemPrekey.lastResort,
    },
    // docs/PROTOCOL.md §11.1: the engine stores it with the session, to frank for the device.
    frankingKey: b(d.frankingKey, 'frankingKey'),
  };
  return d.oneTimePrekey
    ? {
        ...base,
        oneTimePrekey: {
          id: d.oneTimePrekey.id,
          publicKey: b(d.oneTimePrekey.publicKey, 'oneTimePrekey.publicKey'),
        },
      }
    : base;
}
