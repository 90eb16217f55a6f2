import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Construct, type IConstruct } from 'constructs';

/** Namespace of the AwsSolutions pack's findings in CDK's validation report. */
const PACK = 'AwsSolutions';

/**
 * Acknowledges one AwsSolutions finding on `scope` and everything below it. The reason is
 * recorded in the synthesized validation report, so every exception stays reviewable.
 *
 * @param rule - a rule id (`AwsSolutions-S1`) or a finding id (`AwsSolutions-IAM5[Resource::...]`)
 * @example
 * ```ts
 * acknowledgeFinding(bucket, 'AwsSolutions-S1', 'why server access logs are off');
 * ```
 */
export function acknowledgeFinding(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `${PACK}::${rule}`, reason });
}

/**
 * The finding id cdk-nag gives a wildcard resource built from `resource`'s ARN, e.g.
 * `AwsSolutions-IAM5[Resource::<EnvelopesBucketA10A30D4.Arn>/env/*]` for
 * `wildcardResourceFinding(bucket, '/env/*')`. Computed from the logical id, so renaming a
 * construct cannot silently orphan an acknowledgement.
 */
export function wildcardResourceFinding(resource: CfnElement, suffix: string): string {
  const logicalId = Stack.of(resource).resolve(resource.logicalId) as string;
  return `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>${suffix}]`;
}

/**
 * Acknowledges a wildcard-resource finding on the policy of `grantee` when it is a construct
 * (a role in this stack); imported principals carry no policy here and need nothing.
 */
export function acknowledgeWildcardGrant(
  grantee: unknown,
  resource: CfnElement,
  suffix: string,
  reason: string,
): void {
  if (Construct.isConstruct(grantee)) {
    acknowledgeFinding(grantee, wildcardResourceFinding(resource, suffix), reason);
  }
}
