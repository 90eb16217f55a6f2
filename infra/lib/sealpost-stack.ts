import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { SealpostService, type SealpostServiceProps } from './sealpost-service.ts';

/** Props of {@link SealpostStack}: the service's props plus the stack's own. */
export interface SealpostStackProps extends StackProps, SealpostServiceProps {}

/**
 * The whole Sealpost service in one stack: a {@link SealpostService} and nothing else. The
 * service's id is `Default`, which CDK leaves out of logical ids, so the stack's resources
 * and outputs (`ApiUrl`, `TrustRoot`) keep the ids they had before the construct existed.
 */
export class SealpostStack extends Stack {
  /** Everything the stack deploys. */
  readonly service: SealpostService;

  constructor(scope: Construct, id: string, props: SealpostStackProps) {
    super(scope, id, props);
    this.service = new SealpostService(this, 'Default', props);
  }
}
