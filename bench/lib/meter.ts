/**
 * Metering of the AWS clients the cost model drives (bench/service.ts): middleware that counts
 * every DynamoDB and S3 request of the real adapters, with the capacity units DynamoDB (Local)
 * reports, into whichever {@link Usage} record is current.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { emptyUsage, type Usage } from '../cost-model.ts';
import prices from '../prices.json' with { type: 'json' };

/**
 * DynamoDB Local reports a transaction's items at the plain rate (two small items: 2 units),
 * while on AWS every item read or written in a transaction costs twice that.
 */
const TRANSACTIONS = new Set(['TransactWriteItemsCommand', 'TransactGetItemsCommand']);

/** Where the emulators run (DynamoDB Local and s3rver). */
/** API Gateway HTTP API billing unit (bytes of request plus response). */
const API_BILLING_UNIT = 512 * 1024;

export interface Endpoints {
  readonly dynamo: string;
  readonly s3: string;
  readonly bucket: string;
  readonly table: string;
}

/** Adds metering middleware to the clients; `usage` is swapped per phase. */
export class Meter {
  usage: Usage = emptyUsage();
  active = false;

  /**
   * Counts one HTTP API request through a function: its handler time since `startedMs`
   * (`performance.now()`), its request and response bytes in API Gateway's 512 KiB billing
   * units, and the invocation.
   */
  apiRequest(startedMs: number, requestJson: unknown, responseBody: unknown): void {
    this.usage.lambdaMs += performance.now() - startedMs;
    const bytes =
      (requestJson ? JSON.stringify(requestJson).length : 0) + JSON.stringify(responseBody).length;
    this.usage.apiRequests++;
    this.usage.apiBillingUnits += Math.max(1, Math.ceil(bytes / API_BILLING_UNIT));
    this.usage.apiBytes += bytes;
    this.usage.lambdaInvocations++;
  }

  instrumentDynamo(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (!this.active) return next(args);
        const input = args.input as Record<string, unknown>;
        input['ReturnConsumedCapacity'] = 'TOTAL';
        this.usage.dynamoRequests++;
        const isRead = [
          'QueryCommand',
          'GetItemCommand',
          'BatchGetItemCommand',
          'TransactGetItemsCommand',
        ].includes(context.commandName ?? '');
        try {
          const out = await next(args);
          const cc = (
            out.output as {
              ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[];
            }
          ).ConsumedCapacity;
          const reported = (Array.isArray(cc) ? cc : cc ? [cc] : []).reduce(
            (n, c) => n + (c.CapacityUnits ?? 0),
            0,
          );
          const units = TRANSACTIONS.has(context.commandName ?? '')
            ? reported * prices.dynamodbOnDemand.transactionMultiplier
            : reported;
          if (isRead) this.usage.readUnits += units;
          else this.usage.writeUnits += units;
          return out;
        } catch (err) {
          // A failed conditional write is still billed (at least one unit).
          if (!isRead) this.usage.writeUnits += 1;
          throw err;
        }
      },
      { step: 'initialize', name: 'benchMeter' },
    );
  }

  instrumentS3(client: S3Client): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (!this.active) return next(args);
        const name = context.commandName ?? '';
        const out = await next(args);
        if (name === 'PutObjectCommand') {
          this.usage.s3Put++;
          this.usage.s3Bytes += (args.input as { Body?: Uint8Array }).Body?.length ?? 0;
        } else if (name === 'GetObjectCommand') {
          this.usage.s3Get++;
          this.usage.s3Bytes += (out.output as { ContentLength?: number }).ContentLength ?? 0;
        } else if (name === 'DeleteObjectsCommand' || name === 'DeleteObjectCommand') {
          this.usage.s3Delete++;
        }
        return out;
      },
      { step: 'initialize', name: 'benchMeter' },
    );
  }

  /**
   * Runs `work` with metering on, into a fresh usage record, and returns that record.
   *
   * @example const usage = await meter.measure(() => h.call(poll));
   */
  async measure(work: () => Promise<unknown>): Promise<Usage> {
    const previous = this.usage;
    const usage = emptyUsage();
    this.usage = usage;
    this.active = true;
    try {
      await work();
    } finally {
      this.active = false;
      this.usage = previous;
    }
    return usage;
  }
}

/**
 * DynamoDB and S3 clients on the emulators, metered by `meter`.
 *
 * @example const { dynamodb, s3 } = meteredClients(endpoints, meter);
 */
export function meteredClients(
  endpoints: Endpoints,
  meter: Meter,
): { dynamodb: DynamoDBClient; s3: S3Client } {
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const dynamodb = new DynamoDBClient({
    endpoint: endpoints.dynamo,
    region: 'us-east-1',
    credentials,
  });
  const s3 = new S3Client({
    endpoint: endpoints.s3,
    region: 'us-east-1',
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  meter.instrumentDynamo(dynamodb);
  meter.instrumentS3(s3);
  return { dynamodb, s3 };
}
