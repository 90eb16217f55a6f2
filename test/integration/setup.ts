/**
 * Optional vitest global setup for the integration tests: starts one DynamoDB Local and one
 * s3rver for the whole run and shares their endpoints through the environment
 * (`SHARED_ENV`), so test files do not each start a JVM. Without it, every file starts its own.
 */
import { SHARED_ENV, startLocalAws } from '../helpers/local-aws.ts';

export default async function setup(): Promise<() => Promise<void>> {
  const aws = await startLocalAws({ bucket: 'sealpost-shared' });
  process.env[SHARED_ENV.dynamo] = aws.dynamoEndpoint;
  process.env[SHARED_ENV.s3] = aws.s3Endpoint;
  process.env[SHARED_ENV.bucket] = aws.bucket;
  return async () => {
    await aws.stop();
  };
}
