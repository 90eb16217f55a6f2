/**
 * Deploy-time generation of the VAPID key pair (RFC 8292) that Web Push wake-ups are signed
 * with (docs/SERVICE.md §7.3), like the signing keys (keygen.ts): the private key is made
 * inside the account and goes only to its secret, never into the template, the CDK output, the
 * CloudFormation events or the logs. Only the public key, which browsers subscribe with and
 * `GET /v1/push/key` serves anyway, leaves this module (as the resource's data and physical
 * id). Node-only (node:crypto).
 */
import { generateVapidKeys, vapidSecretJson } from '#functions/adapters/webpush/vapid-keys.ts';

/** Properties the stack passes to the custom resource (CloudFormation sends them as strings). */
export interface VapidKeygenProperties {
  /** ARN of the secret that receives the key pair (the API function reads it). */
  readonly VapidSecretArn: string;
}

/** The parts of a CloudFormation custom resource event the generator reads. */
export interface VapidKeygenEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: VapidKeygenProperties;
  /** On Update: the properties before the change. */
  readonly OldResourceProperties?: VapidKeygenProperties;
}

/** What the provider framework reports back to CloudFormation: the public key only. */
export interface VapidKeygenResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: { readonly PublicKey: string };
}

/** Side effects, injected so the generator is testable without AWS. */
export interface VapidKeygenDeps {
  /** Stores `value` as the new current version of `secretId` (Secrets Manager PutSecretValue). */
  putSecretValue(secretId: string, value: string): Promise<void>;
}

/** A base64url uncompressed P-256 point: 87 characters, no padding. */
const PUBLIC_KEY_PATTERN = /^B[A-Za-z0-9_-]{86}$/;

function checkArn(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('arn:')) {
    throw new TypeError('VapidSecretArn must be a secret ARN');
  }
  return value;
}

/**
 * Handles one custom resource event.
 *
 * - Create: generates the key pair, stores it as the secret's JSON ({@link VapidSecret} of the
 *   deployment contract), returns the public key (base64url) as physical id and as
 *   `Data.PublicKey`.
 * - Update: keeps the key (a new one would orphan every browser subscription made with the
 *   old one) and returns the same public key; refuses if the secret was replaced, since the new
 *   one would hold no key.
 * - Delete: does nothing; the secret follows its own removal policy.
 *
 * Neither the response nor any error message contains the private key.
 *
 * @throws TypeError on malformed resource properties
 * @throws Error if the secret cannot be stored, or on Update if it was replaced (the deployment
 *   then rolls back)
 * @example
 * ```ts
 * const res = await onVapidEvent(event, { putSecretValue });
 * ```
 */
export async function onVapidEvent(
  event: VapidKeygenEvent,
  deps: VapidKeygenDeps,
): Promise<VapidKeygenResponse> {
  switch (event.RequestType) {
    case 'Create': {
      const secretArn = checkArn(event.ResourceProperties.VapidSecretArn);
      const keys = generateVapidKeys();
      await deps.putSecretValue(secretArn, vapidSecretJson(keys));
      return { PhysicalResourceId: keys.publicKey, Data: { PublicKey: keys.publicKey } };
    }
    case 'Update': {
      const publicKey = event.PhysicalResourceId ?? '';
      if (!PUBLIC_KEY_PATTERN.test(publicKey)) {
        throw new RangeError('physical id is not a VAPID public key');
      }
      const old = event.OldResourceProperties;
      if (old && old.VapidSecretArn !== event.ResourceProperties.VapidSecretArn) {
        throw new Error('the VAPID secret was replaced; move the key manually (docs/DEPLOY.md)');
      }
      return { PhysicalResourceId: publicKey, Data: { PublicKey: publicKey } };
    }
    case 'Delete':
      return { PhysicalResourceId: event.PhysicalResourceId ?? 'none' };
    default:
      throw new TypeError('unknown RequestType');
  }
}
