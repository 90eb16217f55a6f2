/**
 * {@link AccountStore} on DynamoDB: one partition per account holding the account item and one
 * item per device, so a sealed send reads authorization and the device list in one Query.
 * Registration is one transaction (account and device 1 appear together); a device is linked
 * with a conditional put on its id, so two concurrent links cannot take the same id.
 */
import {
  DeleteItemCommand,
  type DynamoDBClient,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type DeviceCapability,
  FIRST_CONTACT_MODES,
  type FirstContactMode,
  knownCapabilities,
} from 'sealpost/wire/api';
import {
  type AccountRecord,
  type AccountSettingsUpdate,
  type AccountStore,
  type AccountView,
  type DeviceRecord,
  firstContactOf,
  type StoredKemPrekey,
  type StoredSignedPrekey,
} from '../../domain/ports.ts';
import {
  B,
  BOOL,
  checkVersion,
  type Item,
  keyItem,
  N,
  readB,
  readBool,
  readN,
  S,
} from './attributes.ts';
import {
  conditionalPut,
  isConditionalFailure,
  isTransactionConditionFailure,
  translate,
} from './errors.ts';
import { ACCOUNT_SK, accountKey, accountPartition, DEVICE_SK_PREFIX, deviceKey } from './keys.ts';

const VERSION = 1;
/**
 * Device items are version 2: version 1 had no franking key (docs/PROTOCOL.md §11.1), which
 * every device of the franking protocol has; such items are refused as malformed. The optional
 * `caps` attribute (capabilities, docs/SERVICE.md §4.2) did not need a new version: an item
 * without it is a device that announced none.
 */
const DEVICE_VERSION = 2;

/** The device item's capabilities attribute: a String Set, absent when there are none. */
const CAPABILITIES = 'caps';

const isFirstContactMode = (s: string | undefined): s is FirstContactMode =>
  (FIRST_CONTACT_MODES as readonly (string | undefined)[]).includes(s);

function accountItem(a: AccountRecord): Item {
  return {
    ...keyItem(accountKey(a.address)),
    v: N(VERSION),
    accountPublic: B(a.accountPublic),
    accessKeyHash: B(a.accessKeyHash),
    unrestricted: BOOL(firstContactOf(a) === 'anyone'),
    ...(a.firstContact === undefined ? {} : { firstContact: S(a.firstContact) }),
    createdAt: N(a.createdAt),
  };
}

function deviceItem(address: string, d: DeviceRecord): Item {
  return {
    ...keyItem(deviceKey(address, d.deviceId)),
    v: N(DEVICE_VERSION),
    deviceId: N(d.deviceId),
    identity: B(d.identity),
    ...signedPrekeyAttributes(d.signedPrekey),
    ...lastResortAttributes(d.lastResortKemPrekey),
    frankingKey: B(d.frankingKey),
    createdAt: N(d.createdAt),
    ...(d.capabilities && d.capabilities.length > 0
      ? { [CAPABILITIES]: { SS: [...d.capabilities] } }
      : {}),
  };
}

function signedPrekeyAttributes(k: StoredSignedPrekey): Item {
  return { spkId: N(k.id), spkPublic: B(k.publicKey), spkSignature: B(k.signature) };
}

function lastResortAttributes(k: StoredKemPrekey): Item {
  return { lrId: N(k.id), lrPublic: B(k.publicKey), lrSignature: B(k.signature) };
}

function readAccount(address: string, item: Item): AccountRecord {
  checkVersion(item, VERSION);
  // Written by the suspension store (dynamo-suspensions.ts, docs/SERVICE.md §14.5).
  const suspendedAt = item['suspendedAt'] === undefined ? undefined : readN(item, 'suspendedAt');
  // Items written before first-contact modes have only `unrestricted`; the domain reads the
  // mode through firstContactOf (docs/SERVICE.md §15.1).
  const firstContact = item['firstContact']?.S;
  return {
    address,
    accountPublic: readB(item, 'accountPublic'),
    accessKeyHash: readB(item, 'accessKeyHash'),
    unrestricted: readBool(item, 'unrestricted'),
    ...(isFirstContactMode(firstContact) ? { firstContact } : {}),
    createdAt: readN(item, 'createdAt'),
    ...(suspendedAt === undefined
      ? {}
      : { suspendedAt, suspensionReason: item['suspensionReason']?.S ?? '' }),
  };
}

function readDevice(item: Item): DeviceRecord {
  checkVersion(item, DEVICE_VERSION);
  return {
    deviceId: readN(item, 'deviceId'),
    identity: readB(item, 'identity'),
    signedPrekey: {
      id: readN(item, 'spkId'),
      publicKey: readB(item, 'spkPublic'),
      signature: readB(item, 'spkSignature'),
    },
    lastResortKemPrekey: {
      id: readN(item, 'lrId'),
      publicKey: readB(item, 'lrPublic'),
      signature: readB(item, 'lrSignature'),
    },
    frankingKey: readB(item, 'frankingKey'),
    createdAt: readN(item, 'createdAt'),
    ...readCapabilities(item),
  };
}

/**
 * The device's capabilities in `DEVICE_CAPABILITIES` order (a set has none); names this
 * version does not know are not read.
 */
function readCapabilities(item: Item): { capabilities?: DeviceCapability[] } {
  const stored = item[CAPABILITIES];
  if (stored === undefined) return {};
  if (!Array.isArray(stored.SS))
    throw new Error(`stored item has a malformed attribute ${CAPABILITIES}`);
  const capabilities = knownCapabilities(stored.SS);
  return capabilities.length > 0 ? { capabilities } : {};
}

/**
 * Builds an `UpdateExpression` with placeholder names: a SET clause for `attrs`, a REMOVE
 * clause for `remove`.
 */
function updateClause(
  attrs: Item,
  remove: readonly string[] = [],
): {
  expression: string;
  names: Record<string, string>;
  values: Item;
} {
  const names: Record<string, string> = {};
  const values: Item = {};
  const parts = Object.entries(attrs).map(([name, value], i) => {
    names[`#a${i}`] = name;
    values[`:a${i}`] = value;
    return `#a${i} = :a${i}`;
  });
  const removed = remove.map((name, i) => {
    names[`#r${i}`] = name;
    return `#r${i}`;
  });
  const clauses = [
    ...(parts.length > 0 ? [`SET ${parts.join(', ')}`] : []),
    ...(removed.length > 0 ? [`REMOVE ${removed.join(', ')}`] : []),
  ];
  return { expression: clauses.join(' '), names, values };
}

/** Accounts and devices in the table named by `SEALPOST_TABLE`. */
export class DynamoAccountStore implements AccountStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async create(account: AccountRecord, firstDevice: DeviceRecord): Promise<boolean> {
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: accountItem(account),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: deviceItem(account.address, firstDevice),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (isTransactionConditionFailure(err)) return false;
      return translate(err);
    }
  }

  async get(address: string): Promise<AccountView | undefined> {
    const items: Item[] = [];
    let start: Item | undefined;
    try {
      do {
        const out = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': S(accountPartition(address)) },
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start);
    } catch (err) {
      return translate(err);
    }
    const accountItemFound = items.find((i) => i['sk']?.S === ACCOUNT_SK);
    if (!accountItemFound) return undefined;
    const devices = items
      .filter((i) => i['sk']?.S?.startsWith(DEVICE_SK_PREFIX))
      .map(readDevice)
      .sort((a, b) => a.deviceId - b.deviceId);
    return { account: readAccount(address, accountItemFound), devices };
  }

  addDevice(address: string, device: DeviceRecord): Promise<boolean> {
    return conditionalPut(this.client, {
      TableName: this.table,
      Item: deviceItem(address, device),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  }

  async removeDevice(address: string, deviceId: number): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: keyItem(deviceKey(address, deviceId)),
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalFailure(err)) return false;
      return translate(err);
    }
  }

  async updateSettings(address: string, settings: AccountSettingsUpdate): Promise<boolean> {
    const attrs: Item = {};
    if (settings.accessKeyHash) attrs['accessKeyHash'] = B(settings.accessKeyHash);
    if (settings.firstContact !== undefined) {
      attrs['firstContact'] = S(settings.firstContact);
      attrs['unrestricted'] = BOOL(settings.firstContact === 'anyone');
    } else if (settings.unrestricted !== undefined) {
      // An older caller: the mode follows (`false` is `contacts`, the older meaning).
      attrs['unrestricted'] = BOOL(settings.unrestricted);
      attrs['firstContact'] = S(settings.unrestricted ? 'anyone' : 'contacts');
    }
    return this.update(accountKey(address), attrs);
  }

  async updateDeviceKeys(
    address: string,
    deviceId: number,
    keys: Parameters<AccountStore['updateDeviceKeys']>[2],
  ): Promise<boolean> {
    const { capabilities } = keys;
    const attrs: Item = {
      ...(keys.signedPrekey ? signedPrekeyAttributes(keys.signedPrekey) : {}),
      ...(keys.lastResortKemPrekey ? lastResortAttributes(keys.lastResortKemPrekey) : {}),
      ...(capabilities && capabilities.length > 0
        ? { [CAPABILITIES]: { SS: [...capabilities] } }
        : {}),
    };
    // A String Set cannot be empty: replacing with none removes the attribute.
    const remove = capabilities && capabilities.length === 0 ? [CAPABILITIES] : [];
    return this.update(deviceKey(address, deviceId), attrs, remove);
  }

  private async update(
    key: { pk: string; sk: string },
    attrs: Item,
    remove: readonly string[] = [],
  ): Promise<boolean> {
    const clause = updateClause(attrs, remove);
    const values = Object.keys(clause.values).length > 0;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: keyItem(key),
          ConditionExpression: 'attribute_exists(pk)',
          ...(clause.expression !== ''
            ? {
                UpdateExpression: clause.expression,
                ExpressionAttributeNames: clause.names,
                ...(values ? { ExpressionAttributeValues: clause.values } : {}),
              }
            : {}),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalFailure(err)) return false;
      return translate(err);
    }
  }
}
