/**
 * CDK app entry (`cdk.json`: `npx tsx infra/bin/app.ts`). Configuration comes from context:
 * see `stackPropsFromContext` in infra/lib/config.ts and docs/DEPLOY.md.
 */
import { createSealpostApp } from '../lib/sealpost-app.ts';

createSealpostApp().app.synth();
