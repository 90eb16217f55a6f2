import { fileURLToPath } from 'node:url';
import { CustomResource, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { VapidKeygenProperties } from '../keygen/vapid-keygen.ts';
import { acknowledgeFinding, wildcardResourceFinding } from './nag.ts';
import { SealpostFunction } from './node-function.ts';

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

    const keygen = new SealpostFunction(this, 'Keygen', {
      entry: KEYGEN_ENTRY,
      description: 'Sealpost deploy-time VAPID key generator',
      memorySize: 256,
      timeout: Duration.seconds(30),
    });
    // Write only: the generator never reads the secret back.
    keygen.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:PutSecretValue'],
        resources: [this.secret.secretArn],
      }),
    );

    const providerLogs = new logs.LogGroup(this, 'ProviderLogs');
    const providerRole = new iam.Role(this, 'ProviderRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Execution role of the Sealpost VAPID key generator provider framework',
    });
    providerLogs.grantWrite(providerRole);
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: keygen.function,
      frameworkOnEventRole: providerRole,
      logGroup: providerLogs,
    });
    acknowledgeFinding(
      providerRole,
      wildcardResourceFinding(keygen.function.node.defaultChild as lambda.CfnFunction, ':*'),
      'Added by the CDK provider framework: lambda:InvokeFunction on the key generator and its ' +
        'versions (`:*`); it names one function, the wildcard only covers its qualifiers.',
    );

    const properties: VapidKeygenProperties = { VapidSecretArn: this.secret.secretArn };
    this.resource = new CustomResource(this, 'Keys', {
      serviceToken: provider.serviceToken,
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
