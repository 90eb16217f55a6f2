/**
 * Cost model of the mailbox service: AWS usage measured per delivered message (requests,
 * capacity units, bytes, Lambda time) priced with the list prices in `bench/prices.json`
 * (us-east-1; check the live pricing pages before quoting a figure).
 */
import prices from './prices.json' with { type: 'json' };

/** Usage of one phase or of a whole run. */
export interface Usage {
  apiRequests: number;
  /** API Gateway bills every started 512 KiB of a request as one request. */
  apiBillingUnits: number;
  apiBytes: number;
  lambdaInvocations: number;
  lambdaMs: number;
  dynamoRequests: number;
  /** On-demand write request units (1 KiB each; 2 per KiB in transactions). */
  writeUnits: number;
  /** On-demand read request units (4 KiB strongly consistent; 0.5 eventually consistent). */
  readUnits: number;
  s3Put: number;
  s3Get: number;
  s3Delete: number;
  s3Bytes: number;
}

/** An empty usage record. */
export function emptyUsage(): Usage {
  return {
    apiRequests: 0,
    apiBillingUnits: 0,
    apiBytes: 0,
    lambdaInvocations: 0,
    lambdaMs: 0,
    dynamoRequests: 0,
    writeUnits: 0,
    readUnits: 0,
    s3Put: 0,
    s3Get: 0,
    s3Delete: 0,
    s3Bytes: 0,
  };
}

/** Which S3 storage class the envelope objects use. */
export type S3Class = 's3Standard' | 's3ExpressOneZone';

/** Assumptions that are not measured. */
export interface CostAssumptions {
  /** Lambda memory in GB (arm64). */
  readonly lambdaMemoryGb: number;
  readonly s3Class: S3Class;
}

/** USD of a usage record, itemised. */
export interface CostBreakdown {
  api: number;
  lambda: number;
  dynamodb: number;
  s3: number;
  total: number;
}

/**
 * Prices `usage` (request charges and Lambda time; storage of short-lived messages is left
 * out, it is below a cent per million 2 KB messages kept a day).
 *
 * @example price(usage, { lambdaMemoryGb: 0.25, s3Class: 's3Standard' }).total
 */
export function price(usage: Usage, assumptions: CostAssumptions): CostBreakdown {
  const s3 = prices[assumptions.s3Class];
  const api = (usage.apiBillingUnits / 1e6) * prices.apiGatewayHttp.perMillionRequests;
  const lambda =
    (usage.lambdaInvocations / 1e6) * prices.lambda.perMillionRequests +
    (usage.lambdaMs / 1000) * assumptions.lambdaMemoryGb * prices.lambda.perGbSecondArm64;
  const dynamodb =
    (usage.writeUnits / 1e6) * prices.dynamodbOnDemand.perMillionWriteUnits +
    (usage.readUnits / 1e6) * prices.dynamodbOnDemand.perMillionReadUnits;
  const s3Cost =
    (usage.s3Put / 1000) * s3.perThousandPut + (usage.s3Get / 1000) * s3.perThousandGet;
  return { api, lambda, dynamodb, s3: s3Cost, total: api + lambda + dynamodb + s3Cost };
}

/** `usage` divided by `messages`. */
export function perMessage(usage: Usage, messages: number): Usage {
  const out = emptyUsage();
  for (const k of Object.keys(out) as (keyof Usage)[]) out[k] = usage[k] / messages;
  return out;
}

/** USD per million messages from a per-message usage record. */
export function usdPerMillion(perMessageUsage: Usage, assumptions: CostAssumptions): CostBreakdown {
  const one = price(perMessageUsage, assumptions);
  return {
    api: one.api * 1e6,
    lambda: one.lambda * 1e6,
    dynamodb: one.dynamodb * 1e6,
    s3: one.s3 * 1e6,
    total: one.total * 1e6,
  };
}
