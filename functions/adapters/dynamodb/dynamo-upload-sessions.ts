/**
 * {@link UploadSessionStore} on DynamoDB (docs/SERVICE.md §7.6): one item per upload in
 * progress, `att#<id>`, holding the uploading account, the declared size, the multipart upload
 * id and part size, and its times; `ttl` removes it once the session expired (reads filter
 * expired sessions, since TTL deletion lags). Completion and abandonment delete it, so a
 * finished attachment is linked to no account.
 */
import { DeleteItemCommand, type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { UploadSession, UploadSessionStore } from '../../domain/attachment-ports.ts';
import { checkVersion, type Item, keyItem, N, readN, readS, S } from './attributes.ts';
import { conditionalPut, isConditionalFailure, translate } from './errors.ts';
import { TTL_ATTRIBUTE, uploadSessionKey } from './keys.ts';

/** Record version of the session item. */
const VERSION = 1;

/**
 * Upload sessions in the table named by `SEALPOST_TABLE`.
 *
 * @example
 * const sessions = new DynamoUploadSessions(dynamodb, 'sealpost');
 * await sessions.put({ id, account, size, createdAt: now, expiresAt: now + 86_400_000 });
 */
export class DynamoUploadSessions implements UploadSessionStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async put(session: UploadSession): Promise<void> {
    const item: Item = {
      ...keyItem(uploadSessionKey(session.id)),
      v: N(VERSION),
      account: S(session.account),
      size: N(session.size),
      createdAt: N(session.createdAt),
      expiresAt: N(session.expiresAt),
      [TTL_ATTRIBUTE]: N(Math.ceil(session.expiresAt / 1000)),
      ...(session.uploadId === undefined ? {} : { uploadId: S(session.uploadId) }),
      ...(session.partSize === undefined ? {} : { partSize: N(session.partSize) }),
    };
    const written = await conditionalPut(this.client, {
      TableName: this.table,
      Item: item,
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    // Ids are 16 random bytes: a collision means a broken random source, never a client.
    if (!written) throw new Error('an upload session with this id exists');
  }

  async get(id: string, now: number): Promise<UploadSession | undefined> {
    let item: Item | undefined;
    try {
      ({ Item: item } = await this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: keyItem(uploadSessionKey(id)),
          ConsistentRead: true,
        }),
      ));
    } catch (err) {
      return translate(err);
    }
    if (item === undefined) return undefined;
    checkVersion(item, VERSION);
    const expiresAt = readN(item, 'expiresAt');
    if (expiresAt <= now) return undefined;
    return {
      id,
      account: readS(item, 'account'),
      size: readN(item, 'size'),
      createdAt: readN(item, 'createdAt'),
      expiresAt,
      ...(item['uploadId'] === undefined ? {} : { uploadId: readS(item, 'uploadId') }),
      ...(item['partSize'] === undefined ? {} : { partSize: readN(item, 'partSize') }),
    };
  }

  async delete(id: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: keyItem(uploadSessionKey(id)),
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalFailure(err)) return false;
      return translate(err);
    }
  }
}
