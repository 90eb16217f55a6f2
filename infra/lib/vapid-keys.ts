import { fileURLToPath } from 'node:url';
import type { CustomResource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { VapidKeygenProperties } from '../keygen/vapid-keygen.ts';
import { deployTimeKeyGenerator } from './key-generator.ts';
import { acknowledgeFinding } from './nag.ts';

const KEYGEN_ENTRY = fileURLToPath(new URL('../keygen/vapid-handler.ts', import.meta.url));

/**
 * The VAPID key pair (RFC 8292) Web Push wake-ups are signed with (docs/SERVICE.md §7.3),
 * generated inside the account at deploy time like the {@link SigningKeys}, so the private key
 * is never in the template, the CDK output, the CloudFormation events or the logs:
 *
 * - the **secret** holds the pair as the deployment contract's JSON (`VapidSecret`); only the
 *   generator writes it and only the API function reads it;
 * - {@link applicationServerKey} is the public key browsers subscribe with (also served by
 *   `GET /v1/push/key`).
 *
 * The key is made once and kept on every later deployment: browsers' subscriptions name it, so
 * a new one would silently end every device's wake-ups. Removal policy and log retention come
 * from the {@link DataPolicy} aspect of the service.
 */
export class VapidKeys extends Construct {
  /** Secret holding the key pair read by the API function. */
  readonly secret: secretsmanager.Secret;
  /** base64url uncompressed P-256 public key (a deploy-time token). */
  readonly applicationServerKey: string;
  /** The custom resource that generates the key; depend on it before reading the secret. */
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // CloudFormation cannot create a secret without a value: it starts with a random
    // placeholder that the generator replaces in the same deployment; the service rejects
    // anything that is not the contract JSON.
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'Sealpost VAPID key pair of Web Push wake-ups (generated at deploy time)',
    });
    acknowledgeFinding(
      this.secret,
      'AwsSolutions-SMG4',
      'Browsers subscribe with the VAPID public key, so rotating it ends every subscription; ' +
        'it is replaced only deliberately, by a documented manual procedure (docs/DEPLOY.md).',
    );

    const properties: VapidKeygenProperties = { VapidSecretArn: this.secret.secretArn };
    this.resource = deployTimeKeyGenerator(this, {
      entry: KEYGEN_ENTRY,
      what: 'VAPID key',
      secrets: [this.secret],
      resourceType: 'Custom::SealpostVapidKeys',
      properties: { ...properties },
    });
    this.applicationServerKey = this.resource.getAttString('PublicKey');
  }

  /** Lets `grantee` read the key secret (`secretsmanager:GetSecretValue`) and nothing else. */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [this.secret.secretArn],
    });
  }
}
