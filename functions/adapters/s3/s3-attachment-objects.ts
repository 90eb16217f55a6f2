/**
 * {@link AttachmentObjects} on S3 (docs/SERVICE.md §7.6). Every object is `attachments/<id>`,
 * stored as `application/octet-stream` with no user metadata. Uploads go straight to S3:
 *
 * - a **form** is a browser-style POST (S3 POST policy, signature version 4) written here from
 *   the client's own credentials and region, so no further package is needed. The policy pins
 *   the bucket, the exact key, the exact length (`content-length-range` from `size` to `size`),
 *   the content type and the signing fields; S3 refuses any other field (a content type or
 *   `x-amz-meta-*` of the uploader's choosing), any other length and any POST after
 *   `expiresAt`;
 * - a **multipart** upload gets one presigned `UploadPart` URL per part (`getSignedUrl`).
 *
 * The SDK by default adds a CRC32 checksum to requests that support one, and a presigned
 * request then carries the checksum of the empty body it was signed without: S3 would refuse
 * every upload. Presigning therefore runs with checksums only where S3 requires them.
 */
import { createHmac } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  type ListPartsCommandOutput,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ATTACHMENT_PREFIX } from '../../deployment.ts';
import type { AttachmentObjects, FormTarget, StoredPart } from '../../domain/attachment-ports.ts';
import { ServiceError } from '../../domain/errors.ts';
import type { Clock } from '../../domain/ports.ts';
import { s3Status, translateS3 } from './s3-errors.ts';

/** The content type of every attachment object: opaque bytes, nothing about the file. */
export const ATTACHMENT_CONTENT_TYPE = 'application/octet-stream';

/** SigV4's algorithm name, in the POST fields and the policy. */
const ALGORITHM = 'AWS4-HMAC-SHA256';

/** The longest a SigV4 presigned URL may be valid: 7 days. */
const MAX_PRESIGN_SECONDS = 7 * 24 * 60 * 60;

/** ListParts pages: 1,000 parts each, S3's 10,000 parts at most. */
const MAX_LIST_PAGES = 10;

/** S3's answers to a CompleteMultipartUpload whose parts do not form the object. */
const REFUSED_PARTS = new Set([
  'InvalidPart',
  'InvalidPartOrder',
  'EntityTooSmall',
  'NoSuchUpload',
]);

function named(err: unknown, name: string): boolean {
  return err instanceof Error && err.name === name;
}

/** `20260102T030405Z` and `20260102` for a time. */
function amzDate(ms: number): { amzDate: string; dateStamp: string } {
  const iso = new Date(ms).toISOString();
  const amz = `${iso.slice(0, 19).replace(/[-:]/g, '')}Z`;
  return { amzDate: amz, dateStamp: amz.slice(0, 8) };
}

const hmac = (key: string | Buffer, data: string): Buffer =>
  createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * The SigV4 signing key of a day, region and service (AWS SigV4: `kSigning`).
 *
 * @example signingKey(secret, '20260102', 'eu-west-1', 's3').length // 32
 */
export function signingKey(
  secretAccessKey: string,
  dateStamp: string,
  region: string,
  service: string,
): Buffer {
  const kDate = hmac(`AWS4${secretAccessKey}`, dateStamp);
  return hmac(hmac(hmac(kDate, region), service), 'aws4_request');
}

/** Options of {@link S3AttachmentObjects}. */
export interface S3AttachmentObjectsOptions {
  /** @default ATTACHMENT_PREFIX ('attachments/') */
  readonly prefix?: string;
  /** Signing time of forms and presigned URLs. @default Date.now */
  readonly clock?: Clock;
}

/**
 * Attachment blobs in the bucket named by `SEALPOST_BUCKET`, under `attachments/`.
 *
 * @example
 * const objects = new S3AttachmentObjects(new S3Client({}), 'sealpost-prod-envelopes');
 * const form = await objects.createForm(id, size, Date.now() + 15 * 60_000);
 */
export class S3AttachmentObjects implements AttachmentObjects {
  private readonly prefix: string;
  private readonly clock: Clock;
  private readonly presigner: S3Client;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    options: S3AttachmentObjectsOptions = {},
  ) {
    this.prefix = options.prefix ?? ATTACHMENT_PREFIX;
    this.clock = options.clock ?? Date.now;
    // The presigner reads only the client's config and middleware: the same client, with
    // checksums limited to where S3 requires them (see the file comment).
    const whenRequired = async () => 'WHEN_REQUIRED' as const;
    this.presigner = {
      config: {
        ...client.config,
        requestChecksumCalculation: whenRequired,
        responseChecksumValidation: whenRequired,
      },
      middlewareStack: client.middlewareStack,
    } as unknown as S3Client;
  }

  /** The object key of attachment `id`. */
  key(id: string): string {
    return `${this.prefix}${id}`;
  }

  async createForm(id: string, size: number, expiresAt: number): Promise<FormTarget> {
    const key = this.key(id);
    const now = this.clock();
    const [credentials, region, url] = await Promise.all([
      this.client.config.credentials(),
      this.client.config.region(),
      this.bucketUrl(key, now),
    ]);
    const { amzDate: date, dateStamp } = amzDate(now);
    const credential = `${credentials.accessKeyId}/${dateStamp}/${region}/s3/aws4_request`;
    const token = credentials.sessionToken;
    const signed: Record<string, string> = {
      'x-amz-algorithm': ALGORITHM,
      'x-amz-credential': credential,
      'x-amz-date': date,
      ...(token === undefined ? {} : { 'x-amz-security-token': token }),
    };
    const policy = {
      expiration: new Date(expiresAt).toISOString(),
      conditions: [
        { bucket: this.bucket },
        { key },
        ['content-length-range', size, size],
        { 'Content-Type': ATTACHMENT_CONTENT_TYPE },
        ...Object.entries(signed).map(([name, value]) => ({ [name]: value })),
      ],
    };
    const encoded = Buffer.from(JSON.stringify(policy), 'utf8').toString('base64');
    const signature = createHmac(
      'sha256',
      signingKey(credentials.secretAccessKey, dateStamp, region, 's3'),
    )
      .update(encoded, 'utf8')
      .digest('hex');
    return {
      url,
      fields: {
        key,
        'Content-Type': ATTACHMENT_CONTENT_TYPE,
        ...signed,
        policy: encoded,
        'x-amz-signature': signature,
      },
    };
  }

  async startMultipart(id: string): Promise<string> {
    try {
      const out = await this.client.send(
        new CreateMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.key(id),
          ContentType: ATTACHMENT_CONTENT_TYPE,
        }),
      );
      if (!out.UploadId) throw new Error('S3 answered no upload id');
      return out.UploadId;
    } catch (err) {
      return translateS3(err);
    }
  }

  presignPart(
    id: string,
    uploadId: string,
    partNumber: number,
    expiresAt: number,
    size: number,
  ): Promise<string> {
    // ContentLength makes `content-length` a signed header: S3 refuses a body of another size.
    const command = new UploadPartCommand({
      Bucket: this.bucket,
      Key: this.key(id),
      UploadId: uploadId,
      PartNumber: partNumber,
      ContentLength: size,
    });
    return getSignedUrl(this.presigner, command, this.presignOptions(expiresAt));
  }

  async listParts(id: string, uploadId: string): Promise<StoredPart[]> {
    const parts: StoredPart[] = [];
    let marker: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      let out: ListPartsCommandOutput;
      try {
        out = await this.listPage(id, uploadId, marker);
      } catch (err) {
        // Completed or aborted: the upload has no parts any more.
        if (named(err, 'NoSuchUpload') || s3Status(err) === 404) return [];
        return translateS3(err);
      }
      for (const p of out.Parts ?? []) {
        if (p.PartNumber === undefined || p.Size === undefined || p.ETag === undefined) continue;
        parts.push({ partNumber: p.PartNumber, size: p.Size, etag: p.ETag });
      }
      if (!out.IsTruncated || out.NextPartNumberMarker === undefined) break;
      marker = out.NextPartNumberMarker;
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async completeMultipart(
    id: string,
    uploadId: string,
    parts: readonly StoredPart[],
  ): Promise<void> {
    try {
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.key(id),
          UploadId: uploadId,
          MultipartUpload: {
            Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })),
          },
        }),
      );
    } catch (err) {
      if (err instanceof Error && REFUSED_PARTS.has(err.name)) {
        throw new ServiceError('UPLOAD_INCOMPLETE', 'the upload is not complete: parts refused', {
          cause: err,
        });
      }
      translateS3(err);
    }
  }

  async abortMultipart(id: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.key(id),
          UploadId: uploadId,
        }),
      );
    } catch (err) {
      if (named(err, 'NoSuchUpload') || s3Status(err) === 404) return;
      translateS3(err);
    }
  }

  async size(id: string): Promise<number | undefined> {
    try {
      const out = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(id) }),
      );
      return out.ContentLength;
    } catch (err) {
      // The function may not list the bucket, so S3 answers a HEAD of a missing key with 403
      // instead of 404 (it does not reveal whether the key exists); both mean "not there".
      if (
        named(err, 'NotFound') ||
        named(err, 'NoSuchKey') ||
        s3Status(err) === 404 ||
        s3Status(err) === 403
      ) {
        return undefined;
      }
      return translateS3(err);
    }
  }

  async delete(id: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(id) }));
    } catch (err) {
      if (s3Status(err) === 404) return;
      translateS3(err);
    }
  }

  presignGet(id: string, expiresAt: number): Promise<string> {
    const command = new GetObjectCommand({ Bucket: this.bucket, Key: this.key(id) });
    return getSignedUrl(this.presigner, command, this.presignOptions(expiresAt));
  }

  private listPage(
    id: string,
    uploadId: string,
    marker: string | undefined,
  ): Promise<ListPartsCommandOutput> {
    return this.client.send(
      new ListPartsCommand({
        Bucket: this.bucket,
        Key: this.key(id),
        UploadId: uploadId,
        ...(marker === undefined ? {} : { PartNumberMarker: marker }),
      }),
    );
  }

  /**
   * Presigning now, valid until `expiresAt` at the latest (whole seconds, rounded down; at
   * least one second, at most SigV4's seven days).
   */
  private presignOptions(expiresAt: number): { expiresIn: number; signingDate: Date } {
    const now = this.clock();
    const seconds = Math.floor((expiresAt - now) / 1000);
    const expiresIn = Math.min(MAX_PRESIGN_SECONDS, Math.max(1, seconds));
    return { expiresIn, signingDate: new Date(now) };
  }

  /**
   * The URL a form is posted to: the bucket's endpoint as the client resolves it (virtual
   * host or path style, a custom endpoint), read off a presigned URL of the object.
   */
  private async bucketUrl(key: string, now: number): Promise<string> {
    const command = new GetObjectCommand({ Bucket: this.bucket, Key: key });
    const url = new URL(
      await getSignedUrl(this.presigner, command, this.presignOptions(now + 60_000)),
    );
    const suffix = `/${key}`;
    if (!url.pathname.endsWith(suffix)) throw new Error('unexpected presigned object URL');
    url.pathname = url.pathname.slice(0, -suffix.length) || '/';
    url.search = '';
    url.hash = '';
    return url.toString();
  }
}
