/**
 * Every port contract against the in-memory adapters and against the DynamoDB/S3 adapters on
 * DynamoDB Local and s3rver (started once for this file).
 */
import {
  DynamoAccountStore,
  DynamoConnections,
  DynamoMessageIndex,
  DynamoPrekeyStore,
  DynamoRateLimiter,
  DynamoReplayStore,
} from '#functions/adapters/dynamodb/index.ts';
import {
  MemoryAccountStore,
  MemoryBlobStore,
  MemoryConnections,
  MemoryMessageIndex,
  MemoryPrekeyStore,
  MemoryRateLimiter,
  MemoryReplayStore,
} from '#functions/adapters/memory/index.ts';
import { S3BlobStore } from '#functions/adapters/s3/s3-blob-store.ts';
import { useLocalAws } from '../helpers/use-local-aws.ts';
import { accountStoreContract } from './contracts/account-store.ts';
import { connectionRegistryContract } from './contracts/connection-registry.ts';
import { messageIndexContract } from './contracts/message-index.ts';
import {
  blobStoreContract,
  rateLimiterContract,
  replayStoreContract,
} from './contracts/misc-stores.ts';
import { prekeyStoreContract } from './contracts/prekey-store.ts';

const local = useLocalAws();

accountStoreContract('memory', async () => new MemoryAccountStore());
accountStoreContract(
  'dynamodb',
  async () => new DynamoAccountStore(local.aws.dynamodb, local.table),
);
prekeyStoreContract('memory', async () => new MemoryPrekeyStore());
prekeyStoreContract('dynamodb', async () => new DynamoPrekeyStore(local.aws.dynamodb, local.table));
messageIndexContract('memory', async () => new MemoryMessageIndex());
messageIndexContract(
  'dynamodb',
  async () => new DynamoMessageIndex(local.aws.dynamodb, local.table),
);
blobStoreContract('memory', async () => new MemoryBlobStore());
blobStoreContract('s3', async () => new S3BlobStore(local.aws.s3, local.aws.bucket));
replayStoreContract('memory', async () => new MemoryReplayStore());
replayStoreContract('dynamodb', async () => new DynamoReplayStore(local.aws.dynamodb, local.table));
rateLimiterContract('memory', async () => new MemoryRateLimiter());
rateLimiterContract('dynamodb', async () => new DynamoRateLimiter(local.aws.dynamodb, local.table));
connectionRegistryContract('memory', async () => new MemoryConnections());
connectionRegistryContract(
  'dynamodb',
  async () => new DynamoConnections(local.aws.dynamodb, local.table),
);
