/**
 * {@link TokenKeyStore} on DynamoDB: one item per UTC day in the `tkey` partition
 * (token-keys.ts), written with a conditional put so the first writer of a day wins and every
 * other writer reads back and uses its key. The private key is stored wrapped (encrypted by the
 * caller); the item expires a week after the key's last redeemable moment.
 */
import {
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { UnavailableError } from '../../domain/errors.ts';
import {
  checkStoredTokenKey,
  checkTokenDay,
  type StoredTokenKey,
  TOKEN_KEY_ID_BYTES,
  type TokenKeyStore,
} from '../../domain/token-ports.ts';
import { B, checkVersion, type Item, keyItem, N, readB, readN, readS, S } from './attributes.ts';
import { isConditionalFailure, translate } from './errors.ts';
import { TTL_ATTRIBUTE } from './keys.ts';
import { TOKEN_KEY_PARTITION, tokenDaySk, tokenKeyDay, tokenKeyKey } from './token-keys.ts';

/** Record version of the key item. */
const VERSION = 1;
/** Rounds of put-then-read before giving up (a stored key vanishing between them is TTL). */
const ROUNDS = 3;
/** A key item outlives its last redeemable moment by a week (published lists, diagnosis). */
const KEEP_SECONDS = 7 * 24 * 60 * 60;

function corrupt(name: string): Error {
  return new Error(`stored item has a malformed attribute ${name}`);
}

function keyItemOf(key: StoredTokenKey): Item {
  return {
    ...keyItem(tokenKeyKey(key.day)),
    v: N(VERSION),
    keyId: B(key.keyId),
    publicKey: B(key.publicKey),
    wrappedPrivateKey: B(key.wrappedPrivateKey),
    notAfter: N(key.notAfter),
    [TTL_ATTRIBUTE]: N(Math.ceil(key.notAfter / 1000) + KEEP_SECONDS),
  };
}

/** The key of a stored item; throws on a malformed one rather than hand out a bad key. */
function readKey(item: Item): StoredTokenKey {
  checkVersion(item, VERSION);
  const day = tokenKeyDay(readS(item, 'sk'));
  if (day === undefined) throw corrupt('sk');
  const keyId = readB(item, 'keyId');
  if (keyId.length !== TOKEN_KEY_ID_BYTES) throw corrupt('keyId');
  const publicKey = readB(item, 'publicKey');
  if (publicKey.length === 0) throw corrupt('publicKey');
  const wrappedPrivateKey = readB(item, 'wrappedPrivateKey');
  if (wrappedPrivateKey.length === 0) throw corrupt('wrappedPrivateKey');
  const notAfter = readN(item, 'notAfter');
  if (!Number.isSafeInteger(notAfter) || notAfter < 0) throw corrupt('notAfter');
  return { day, keyId, publicKey, wrappedPrivateKey, notAfter };
}

/**
 * Daily issuer keys in the table named by `SEALPOST_TABLE`.
 *
 * @example
 * const keys = new DynamoTokenKeys(dynamodb, 'sealpost');
 * const key = (await keys.get(today)) ?? (await keys.putIfAbsent(await newDailyKey(today)));
 */
export class DynamoTokenKeys implements TokenKeyStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async get(day: number): Promise<StoredTokenKey | undefined> {
    checkTokenDay(day, 'day');
    const item = await this.item(day);
    return item ? this.checked(item, day) : undefined;
  }

  async putIfAbsent(key: StoredTokenKey): Promise<StoredTokenKey> {
    checkStoredTokenKey(key);
    const item = keyItemOf(key);
    for (let round = 0; round < ROUNDS; round++) {
      let stored: Item | undefined;
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: item,
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return readKey(item);
      } catch (err) {
        if (!isConditionalFailure(err)) return translate(err);
        stored = (err as { Item?: Item }).Item ?? (await this.item(key.day));
      }
      if (stored) return this.checked(stored, key.day);
    }
    throw new UnavailableError('the token key store is busy; retry');
  }

  async range(fromDay: number, toDay: number): Promise<StoredTokenKey[]> {
    checkTokenDay(fromDay, 'fromDay');
    checkTokenDay(toDay, 'toDay');
    // BETWEEN with its bounds reversed is a validation error in DynamoDB, not an empty answer.
    if (fromDay > toDay) return [];
    const out: StoredTokenKey[] = [];
    let start: Item | undefined;
    try {
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: {
              ':pk': S(TOKEN_KEY_PARTITION),
              ':from': S(tokenDaySk(fromDay)),
              ':to': S(tokenDaySk(toDay)),
            },
            ScanIndexForward: true,
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of page.Items ?? []) out.push(readKey(item));
        start = page.LastEvaluatedKey;
      } while (start);
    } catch (err) {
      return translate(err);
    }
    return out;
  }

  /** The key of an item read for `day`, refused when the item is of another day. */
  private checked(item: Item, day: number): StoredTokenKey {
    const key = readKey(item);
    if (key.day !== day) throw corrupt('sk');
    return key;
  }

  private async item(day: number): Promise<Item | undefined> {
    try {
      const out = await this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: keyItem(tokenKeyKey(day)),
          ConsistentRead: true,
        }),
      );
      return out.Item;
    } catch (err) {
      return translate(err);
    }
  }
}
