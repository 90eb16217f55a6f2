import { CustomResource, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { acknowledgeFinding, wildcardResourceFinding } from './nag.ts';
import { SealpostFunction } from './node-function.ts';

/** Options of {@link deployTimeKeyGenerator}. */
export interface KeyGeneratorOptions {
  /** TypeScript entry of the generator (exports `handler`). */
  readonly entry: string;
  /** What it generates, for the function's and the provider role's descriptions. */
  readonly what: string;
  /** The secrets it writes (and never reads). */
  readonly secrets: readonly secretsmanager.ISecret[];
  /** CloudFormation type of the custom resource (`Custom::...`). */
  readonly resourceType: string;
  /** The resource's properties (strings; no secret values). */
  readonly properties: Record<string, string>;
}

/**
 * A custom resource that generates key material inside the account at deploy time and writes it
 * to `secrets`: its function (write-only on those secrets), a provider framework with its own
 * role and log group, and the one cdk-nag finding the framework brings. The resource's
 * attributes carry only public values.
 *
 * @example
 * const keys = deployTimeKeyGenerator(this, { entry, what: 'VAPID key', secrets: [secret],
 *   resourceType: 'Custom::SealpostVapidKeys', properties: { VapidSecretArn: secret.secretArn } });
 */
export function deployTimeKeyGenerator(
  scope: Construct,
  options: KeyGeneratorOptions,
): CustomResource {
  const keygen = new SealpostFunction(scope, 'Keygen', {
    entry: options.entry,
    description: `Sealpost deploy-time ${options.what} generator`,
    memorySize: 256,
    timeout: Duration.seconds(30),
  });
  // Write only: the generator never reads a secret back.
  keygen.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['secretsmanager:PutSecretValue'],
      resources: options.secrets.map((s) => s.secretArn),
    }),
  );

  const providerLogs = new logs.LogGroup(scope, 'ProviderLogs');
  const providerRole = new iam.Role(scope, 'ProviderRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Execution role of the Sealpost ${options.what} generator provider framework`,
  });
  providerLogs.grantWrite(providerRole);
  const provider = new cr.Provider(scope, 'Provider', {
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
  return new CustomResource(scope, 'Keys', {
    serviceToken: provider.serviceToken,
    resourceType: options.resourceType,
    properties: { ...options.properties },
  });
}
