/**
 * An object store for attachment tests that keeps sizes instead of bytes (the service never
 * touches bytes): presigned targets are recognisable URLs, and the test plays the client by
 * storing parts and objects directly. Failures can be injected per method.
 */
import type {
  AttachmentObjects,
  FormTarget,
  StoredPart,
} from '#functions/domain/attachment-ports.ts';
import type { Caller } from '#functions/domain/auth-service.ts';
import { randomBytes } from '#functions/domain/crypto.ts';
import { ServiceError } from '#functions/domain/errors.ts';
import { deviceRef } from '#functions/domain/records.ts';
import { newAccount } from './fixtures.ts';

/** The origin of every URL {@link FakeAttachmentObjects} hands out. */
export const FAKE_STORE = 'https://objects.test/bucket';

interface Upload {
  readonly id: string;
  readonly parts: Map<number, StoredPart>;
}

/** Sizes of objects and multipart parts, by id and upload id. */
export class FakeAttachmentObjects implements AttachmentObjects {
  readonly objects = new Map<string, number>();
  readonly uploads = new Map<string, Upload>();
  /** Method names in call order. */
  readonly calls: string[] = [];
  /** The next call of a method throws this error (once). */
  readonly failNext = new Map<keyof AttachmentObjects, Error>();
  private uploadCounter = 0;
  private etagCounter = 0;

  private enter(method: keyof AttachmentObjects): void {
    this.calls.push(method);
    const failure = this.failNext.get(method);
    if (failure) {
      this.failNext.delete(method);
      throw failure;
    }
  }

  async createForm(id: string, size: number, expiresAt: number): Promise<FormTarget> {
    this.enter('createForm');
    return {
      url: FAKE_STORE,
      fields: { key: `attachments/${id}`, size: String(size), expires: String(expiresAt) },
    };
  }

  async startMultipart(id: string): Promise<string> {
    this.enter('startMultipart');
    const uploadId = `upload-${++this.uploadCounter}`;
    this.uploads.set(uploadId, { id, parts: new Map() });
    return uploadId;
  }

  async presignPart(
    id: string,
    uploadId: string,
    partNumber: number,
    expiresAt: number,
    size: number,
  ): Promise<string> {
    this.enter('presignPart');
    return `${FAKE_STORE}/attachments/${id}?uploadId=${uploadId}&partNumber=${partNumber}&expires=${expiresAt}&size=${size}`;
  }

  async listParts(id: string, uploadId: string): Promise<StoredPart[]> {
    this.enter('listParts');
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.id !== id) return [];
    return [...upload.parts.values()].sort((a, b) => a.partNumber - b.partNumber);
  }

  async completeMultipart(
    id: string,
    uploadId: string,
    parts: readonly StoredPart[],
  ): Promise<void> {
    this.enter('completeMultipart');
    const upload = this.uploads.get(uploadId);
    const refused = () => new ServiceError('UPLOAD_INCOMPLETE', 'the upload is not complete');
    if (!upload || upload.id !== id) throw refused();
    for (const p of parts) {
      if (upload.parts.get(p.partNumber)?.etag !== p.etag) throw refused();
    }
    this.objects.set(
      id,
      parts.reduce((n, p) => n + p.size, 0),
    );
    this.uploads.delete(uploadId);
  }

  async abortMultipart(_id: string, uploadId: string): Promise<void> {
    this.enter('abortMultipart');
    this.uploads.delete(uploadId);
  }

  async size(id: string): Promise<number | undefined> {
    this.enter('size');
    return this.objects.get(id);
  }

  async delete(id: string): Promise<void> {
    this.enter('delete');
    this.objects.delete(id);
  }

  async presignGet(id: string, expiresAt: number): Promise<string> {
    this.enter('presignGet');
    return `${FAKE_STORE}/attachments/${id}?expires=${expiresAt}`;
  }

  /** The client's upload of one part (a new entity tag each time). */
  putPart(uploadId: string, partNumber: number, size: number): void {
    const upload = this.uploads.get(uploadId);
    if (!upload) throw new Error(`no upload ${uploadId}`);
    upload.parts.set(partNumber, { partNumber, size, etag: `"etag-${++this.etagCounter}"` });
  }

  /** The client's form POST (or any object in place). */
  putObject(id: string, size: number): void {
    this.objects.set(id, size);
  }
}

/** An authenticated device of a fresh account, as the domain services receive it. */
export function testCaller(): Caller {
  const account = newAccount();
  const key = { id: 1, publicKey: randomBytes(32), signature: randomBytes(64) };
  const device = {
    deviceId: 1,
    identity: randomBytes(160),
    signedPrekey: key,
    lastResortKemPrekey: { ...key, publicKey: randomBytes(1568) },
    frankingKey: randomBytes(32),
    createdAt: 0,
  };
  const view = {
    account: {
      address: account.address,
      accountPublic: account.publicKey,
      accessKeyHash: randomBytes(32),
      unrestricted: false,
      createdAt: 0,
    },
    devices: [device],
  };
  return {
    address: account.address,
    deviceId: 1,
    device,
    ref: deviceRef(account.address, device),
    view,
    accountSigned: false,
  };
}
