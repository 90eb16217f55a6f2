/**
 * CDK app entry (`cdk.json`: `npx tsx infra/bin/app.ts`). Configuration comes from context:
 * see `stackPropsFromContext` in infra/lib/config.ts and docs/DEPLOY.md. Invalid context ends
 * synthesis with one message listing every problem (exit code 1, no stack trace).
 */
import { ContextError } from '../lib/config.ts';
import { createSealpostApp } from '../lib/sealpost-app.ts';

try {
  createSealpostApp().app.synth();
} catch (err) {
  if (!(err instanceof ContextError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exitCode = 1;
}
