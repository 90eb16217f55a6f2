import { fileURLToPath } from 'node:url';
import type { CustomResource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  DEFAULT_CERTIFICATE_VALIDITY_DAYS,
  DEFAULT_SERVER_KEY_ID,
  type KeygenProperties,
} from '../keygen/keygen.ts';
import type { DataPolicy } from './data-policy.ts';
import { deployTimeKeyGenerator } from './key-generator.ts';
import { acknowledgeFinding } from './nag.ts';

const KEYGEN_ENTRY = fileURLToPath(new URL('../keygen/handler.ts', import.meta.url));

/** Props of {@link SigningKeys}. */
export interface SigningKeysProps {
  /**
   * Key id of the first server key (u32, not 0).
   * @default 1
   */
  readonly serverKeyId?: number;
  /**
   * Days from the first deployment until the server certificate expires.
   * @default 730
   */
  readonly certificateValidityDays?: number;
}

/**
 * The sealed-sender key material (PROTOCOL.md §6), generated inside the account at deploy time so
 * that no private key is ever in the template, the CDK output, the CloudFormation events or the
 * logs:
 *
 * - the **root secret** holds the trust root's seed; only the key generator can write it and
 *   nothing in the stack can read it;
 * - the **signing secret** holds the server key and its certificate (the JSON of the
 *   deployment contract); only the API function can read it;
 * - {@link trustRoot} is the root's public key, the value clients pin.
 *
 * Removal policy and log retention come from the {@link DataPolicy} aspect of the service.
 * Destroying the root secret means no further server key can be certified: every client would
 * have to pin a new trust root.
 */
export class SigningKeys extends Construct {
  /** Secret holding the trust root seed. */
  readonly rootSecret: secretsmanager.Secret;
  /** Secret holding the server signing material read by the API function. */
  readonly signingSecret: secretsmanager.Secret;
  /** base64url Ed25519 public key of the trust root (a deploy-time token). */
  readonly trustRoot: string;
  /** The custom resource that generates the keys; depend on it before reading the secret. */
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: SigningKeysProps = {}) {
    super(scope, id);
    // CloudFormation cannot create a secret without a value, so each starts with a random
    // placeholder that the generator replaces in the same deployment; the service rejects
    // anything that is not the contract JSON.
    this.rootSecret = new secretsmanager.Secret(this, 'RootSecret', {
      description: 'Sealpost trust root seed (certifies server keys; generated at deploy time)',
    });
    this.signingSecret = new secretsmanager.Secret(this, 'SigningSecret', {
      description: 'Sealpost server signing key and certificate (generated at deploy time)',
    });
    const rotationReason =
      'Rotating a server key means certifying a new key with the trust root, not replacing a ' +
      'password; it is a documented manual procedure (docs/DEPLOY.md, key rotation), and the ' +
      'trust root itself must not rotate or every client would have to re-pin it.';
    for (const secret of [this.rootSecret, this.signingSecret]) {
      acknowledgeFinding(secret, 'AwsSolutions-SMG4', rotationReason);
    }

    const properties: KeygenProperties = {
      RootSecretArn: this.rootSecret.secretArn,
      SigningSecretArn: this.signingSecret.secretArn,
      KeyId: String(props.serverKeyId ?? DEFAULT_SERVER_KEY_ID),
      CertificateValidityDays: String(
        props.certificateValidityDays ?? DEFAULT_CERTIFICATE_VALIDITY_DAYS,
      ),
    };
    this.resource = deployTimeKeyGenerator(this, {
      entry: KEYGEN_ENTRY,
      what: 'trust root and server key',
      secrets: [this.rootSecret, this.signingSecret],
      resourceType: 'Custom::SealpostSigningKeys',
      properties: { ...properties },
    });
    this.trustRoot = this.resource.getAttString('TrustRoot');
  }

  /** Lets `grantee` read the signing secret (`secretsmanager:GetSecretValue`) and nothing else. */
  grantReadSigningSecret(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [this.signingSecret.secretArn],
    });
  }
}
