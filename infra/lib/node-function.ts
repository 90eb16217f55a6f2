import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { DataPolicy } from './data-policy.ts';

/**
 * The Lambda runtime of every Sealpost function: the newest Node.js this aws-cdk-lib knows
 * (cdk-nag AwsSolutions-L1 requires the latest runtime of the family).
 */
export const NODE_RUNTIME: lambda.Runtime = lambda.Runtime.NODEJS_24_X;

/** esbuild target matching {@link NODE_RUNTIME}. */
export const NODE_TARGET = 'node24';

/**
 * esbuild's ESM output has no `require`; some bundled CommonJS dependencies still call it for
 * Node built-ins, so the bundle recreates it from `import.meta.url`.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __sealpostCreateRequire } from 'node:module'; const require = __sealpostCreateRequire(import.meta.url);";

/** Props of {@link SealpostFunction}. */
export interface SealpostFunctionProps {
  /** Absolute path of the TypeScript entry file exporting `handler`. */
  readonly entry: string;
  /** What the function does (shown in the Lambda console). */
  readonly description: string;
  /**
   * Memory in MiB.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Maximum run time of one invocation.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Environment variables, set only by the Sealpost constructs. `NODE_OPTIONS` is added here
   * (`--enable-source-maps`, so stack traces point into the TypeScript sources).
   */
  readonly environment?: Record<string, string>;
  /**
   * Bundle the AWS SDK v3 clients into the function instead of using the copy in the runtime.
   * Bundled clients start faster and pin the version that the tests ran against.
   * @default false
   */
  readonly bundleAwsSdk?: boolean;
}

/**
 * A Node.js Lambda function bundled with the local esbuild (no Docker): ESM, minified, with
 * source maps, arm64, on {@link NODE_RUNTIME}. It gets its own log group (retention and removal
 * policy come from the stack's {@link DataPolicy} aspect) and its own execution role that may only write to that log group (no AWS managed policy, so no
 * `logs:*` on `*`).
 */
export class SealpostFunction extends Construct {
  /** The function. */
  readonly function: NodejsFunction;
  /** The execution role; grants are added by the resource constructs' `grantX()` methods. */
  readonly role: iam.Role;
  /** The function's log group. */
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SealpostFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs');
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of: ${props.description}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: NODE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: NODE_TARGET,
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        bundleAwsSDK: props.bundleAwsSdk ?? false,
        // The SDK's workspace package resolves to its sources (package.json `exports`).
        esbuildArgs: { '--conditions': 'sealpost-source' },
      },
    });
  }
}
