/**
 * The account, contact and device part of `SealpostClient` (docs/SDK.md §Public API): its
 * base class, holding the client's parts and what concerns identities rather than messages
 * (contact cards, safety numbers, device lists, account settings). Messaging and the
 * factories are in client.ts.
 */
import type { IdentityChangedError } from '../errors.ts';
import { NoSessionError } from '../errors.ts';
import type { ProtocolEngine } from '../protocol/engine.ts';
import type { AccountKey } from '../protocol/identity.ts';
import type { SafetyNumber } from '../protocol/safety-number.ts';
import { ArgumentRangeError, ArgumentTypeError } from '../util/argument-errors.ts';
import { fromBase64Url, toBase64Url } from '../wire/api/codec.ts';
import { isAddress } from '../wire/identity.ts';
import type { ClientAttachments } from './attachments/client-attachments.ts';
import type { CallOptions } from './call-options.ts';
import type { CertificateCache } from './certificate-cache.ts';
import { type ClientOptions, type ContactCard, callOf } from './client-options.ts';
import { clientParts } from './client-parts.ts';
import type { ClientState, KnownDevice, Registration } from './client-state.ts';
import { AccountKeyRequiredError } from './errors.ts';
import type { SealpostHttpClient } from './http-client.ts';
import type { PrekeyPolicy } from './prekey-maintenance.ts';
import type { ReceiveLoop } from './receive-loop.ts';
import type { ClientReporting } from './reporting.ts';
import type { MessageSender } from './sender.ts';
import type { TokenWallet } from './token-wallet.ts';

/**
 * The base of {@link SealpostClient}: its parts, and the account, contact and device members.
 * Not constructed on its own.
 */
export abstract class ClientDevices {
  /** The typed HTTP client, signed as this device. */
  readonly http: SealpostHttpClient;
  /** The protocol engine (identity, sessions, safety numbers). */
  readonly engine: ProtocolEngine;
  protected readonly state: ClientState;
  protected readonly registration: Registration;
  protected readonly certificates: CertificateCache;
  protected readonly sender: MessageSender;
  protected readonly loop: ReceiveLoop;
  protected readonly attachments: ClientAttachments;
  /** Franking, reports and suspensions (docs/SDK.md §Reporting). */
  protected readonly reporting: ClientReporting;
  /** Anonymous tokens for message requests (docs/SDK.md §Message requests). */
  protected readonly wallet: TokenWallet;
  protected readonly now: () => number;
  protected readonly prekeyPolicy: PrekeyPolicy;

  protected constructor(
    engine: ProtocolEngine,
    http: SealpostHttpClient,
    registration: Registration,
    options: ClientOptions,
  ) {
    this.engine = engine;
    this.http = http;
    this.registration = registration;
    this.now = options.now ?? Date.now;
    this.prekeyPolicy = options.prekeys ?? {};
    const parts = clientParts(engine, http, registration, options);
    this.state = parts.state;
    this.certificates = parts.certificates;
    this.sender = parts.sender;
    this.loop = parts.loop;
    this.attachments = parts.attachments;
    this.reporting = parts.reporting;
    this.wallet = parts.wallet;
  }

  /** This account's address (self-certifying). */
  get address(): string {
    return this.registration.address;
  }

  /** This device's id. */
  get deviceId(): number {
    return this.registration.deviceId;
  }

  /**
   * The account key, present only on the device that created the account. Hand it to a new
   * device over a secure channel to link it; whoever holds it controls the account.
   *
   * Returns undefined on linked devices.
   */
  exportAccountKey(): AccountKey | undefined {
    const seed = this.engine.accountSeed;
    return seed ? { seed, publicKey: this.engine.identity.accountPublic } : undefined;
  }

  /** This account's contact card (address and delivery access key). */
  contactCard(): ContactCard {
    return { address: this.address, accessKey: toBase64Url(this.registration.accessKey) };
  }

  /**
   * Stores a contact's card so sealed sends to it are authorized from the first message; the
   * account becomes a contact (its messages are not requests).
   *
   * @throws {TypeError | RangeError} if the card is malformed.
   */
  async addContact(card: ContactCard): Promise<void> {
    if (!isAddress(card.address)) throw new ArgumentTypeError('card.address is not an address');
    const key = fromBase64Url(card.accessKey, 'card.accessKey');
    if (key.length !== 16) throw new ArgumentRangeError('card.accessKey must be 16 bytes');
    // A card handed over out of band makes a contact (docs/SDK.md §Message requests).
    await this.state.store.commit([
      this.state.accessKeyOp(card.address, key),
      this.state.acceptOp(card.address),
    ]);
  }

  /**
   * Accepts the new identity of a contact device after the user confirmed it (compared safety
   * numbers). Messages held because of the change are read at the next receive.
   *
   * @throws {UntrustedIdentityError} if the identity does not belong to the address.
   */
  async confirmIdentity(error: IdentityChangedError): Promise<void> {
    if (!error.identity) throw new ArgumentTypeError('the error carries no identity');
    await this.engine.confirmIdentity(
      { address: error.address, deviceId: error.deviceId },
      error.identity,
    );
  }

  /**
   * The safety number with a contact (compare it in person or scan its QR payload).
   *
   * @throws {NoSessionError} if no identity of the contact is known yet.
   */
  async safetyNumber(contact: string): Promise<SafetyNumber> {
    return this.engine.safetyNumber(await this.accountKeyOf(contact));
  }

  /**
   * Marks a contact's safety number as verified (after comparing it in person or scanning its
   * QR code); a new or re-linked device of a verified contact is then announced with
   * `verifiedContact: true`. Pass `false` to take the mark back.
   *
   * @throws {NoSessionError} if no identity of the contact is known yet.
   */
  async markVerified(contact: string, verified = true): Promise<void> {
    await this.engine.markVerified(contact, await this.accountKeyOf(contact), verified);
  }

  /** The contact's account key, from any pinned device identity. */
  private async accountKeyOf(contact: string): Promise<Uint8Array> {
    for (const d of await this.state.devices(contact)) {
      const identity = await this.engine.pinnedIdentity({ address: contact, deviceId: d.deviceId });
      if (identity) return identity.accountPublic;
    }
    throw new NoSessionError('no identity of this contact is known yet');
  }

  /** The devices of `address` this client currently encrypts for. */
  knownDevices(address: string): Promise<KnownDevice[]> {
    return this.state.devices(address);
  }

  /**
   * Changes whether anyone may send sealed messages to this account without the access key.
   *
   * @throws {ApiError | NetworkError}
   * @example await client.setUnrestricted(true);
   */
  async setUnrestricted(unrestricted: boolean, call?: CallOptions): Promise<void> {
    await this.http.updateSettings({ unrestricted }, callOf(call));
  }

  /**
   * Removes a device of this account (e.g. a lost phone). Removing another device is signed
   * with the account key, which only the account's first device holds; a device may always
   * remove itself.
   *
   * @throws {AccountKeyRequiredError} if `deviceId` is another device and this one holds no
   *   account key.
   * @throws {ApiError} `NOT_FOUND` if no such device.
   * @example await laptop.removeDevice(lostPhoneId);
   */
  async removeDevice(deviceId: number, call?: CallOptions): Promise<void> {
    if (deviceId === this.deviceId) {
      await this.http.removeDevice(deviceId, {}, callOf(call));
    } else {
      const accountSeed = this.engine.accountSeed;
      if (!accountSeed) {
        throw new AccountKeyRequiredError('removing another device needs the account key');
      }
      await this.http.removeDevice(deviceId, { accountSeed }, callOf(call));
    }
    this.sender.ownDevicesChanged();
  }
}
