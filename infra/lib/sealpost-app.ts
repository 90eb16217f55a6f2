import { resolve } from 'node:path';
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { stackPropsFromContext } from './config.ts';
import { SealpostStack } from './sealpost-stack.ts';

/** The app and its one stack. */
export interface SealpostApp {
  readonly app: App;
  readonly stack: SealpostStack;
}

/**
 * Builds the CDK app: one `Sealpost-{stage}` stack configured from context, checked by the
 * cdk-nag AwsSolutions pack (any unacknowledged finding fails synthesis). The stack is
 * environment-agnostic unless the CLI provides an account and region.
 *
 * @throws TypeError / RangeError if a context value is invalid
 * @example
 * ```ts
 * const { app } = createSealpostApp();
 * app.synth();
 * ```
 */
export function createSealpostApp(props: AppProps = {}): SealpostApp {
  const app = new App(props);
  const config = stackPropsFromContext((key) => app.node.tryGetContext(key));
  const account = process.env['CDK_DEFAULT_ACCOUNT'];
  const region = process.env['CDK_DEFAULT_REGION'];
  const stack = new SealpostStack(app, `Sealpost-${config.stage}`, {
    ...config,
    apiEntry: config.apiEntry ? resolve(config.apiEntry) : undefined,
    env: account && region ? { account, region } : undefined,
    description: `Sealpost end-to-end encrypted mailbox (${config.stage})`,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
