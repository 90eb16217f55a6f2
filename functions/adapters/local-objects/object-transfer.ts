/**
 * The HTTP side of the local object service: what S3 does for attachments on AWS, for the
 * local server and the test kit. It accepts only what a presigned URL or form of
 * {@link LocalAttachmentObjects} grants, and enforces exactly the conditions the S3 adapter
 * asks S3 to enforce:
 *
 * - `POST /_objects` (multipart/form-data): the fields `key`, `policy`, `signature`, then the
 *   blob as `file`, the form's last part. Refused: a forged or expired policy, a key other
 *   than the policy's, any other field, a second file, a file of another size than the
 *   policy's (413 as soon as it passes it, without reading on).
 * - `PUT /_objects/<key>?uploadId&partNumber&maxBytes&expires&signature`: one part of a
 *   multipart upload, streamed into storage, at most `maxBytes` (413 past it); answers its
 *   `ETag`.
 * - `GET /_objects/<key>?expires&signature`: the object, or one `Range: bytes=a-b` of it (206).
 *
 * Errors have S3's status codes and S3's XML body (`<Error><Code>…`), so clients meet the same
 * answers as on AWS. Every answer carries CORS headers for browsers (any origin: the URLs are
 * the credentials, as with S3).
 */
import { ATTACHMENT_BLOB_LIMIT } from 'sealpost/wire/api';
import { FormReader, FormSyntaxError, formBoundary } from './form-reader.ts';
import {
  decodePolicy,
  isObjectKey,
  OBJECTS_PATH,
  type ObjectSigner,
  type UrlGrant,
} from './object-signing.ts';
import type { ByteRange, ObjectStorage } from './object-storage.ts';
import { bodyChunks, IncompleteBodyError, limited, TooLargeError } from './request-body.ts';

/** Bytes a form may carry besides its file (fields, part headers, delimiters). */
export const FORM_OVERHEAD_BYTES = 16 * 1024;
/** Most bytes of one form field value. */
const FIELD_MAX_BYTES = 2048;
/** S3's largest part number. */
export const MAX_PART_NUMBER = 10_000;
/** The fields a form must carry before its file, each once. */
const FORM_FIELDS = ['key', 'policy', 'signature'] as const;
type FormField = (typeof FORM_FIELDS)[number];

const UPLOAD_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const DECIMAL_PATTERN = /^(0|[1-9][0-9]{0,15})$/;

/** Options of {@link createObjectTransfer}. */
export interface ObjectTransferOptions {
  readonly storage: ObjectStorage;
  /** The signer of the {@link LocalAttachmentObjects} whose URLs this serves. */
  readonly signer: ObjectSigner;
  /** The clock expiry is checked against (ms). @default Date.now */
  readonly clock?: () => number;
}

/**
 * Whether `url` is addressed to the object service (its path is `/_objects` or below it).
 *
 * @example isObjectRequest('http://127.0.0.1:8787/_objects/attachments/abc') // true
 */
export function isObjectRequest(url: string): boolean {
  const { pathname } = new URL(url);
  return pathname === OBJECTS_PATH || pathname.startsWith(`${OBJECTS_PATH}/`);
}

/**
 * The object service as a fetch handler; serve it for every request {@link isObjectRequest}
 * accepts.
 *
 * @example
 * const objects = createObjectTransfer({ storage, signer });
 * const fetch = (r: Request) => (isObjectRequest(r.url) ? objects(r) : app.fetch(r));
 */
export function createObjectTransfer(
  options: ObjectTransferOptions,
): (request: Request) => Promise<Response> {
  const transfer = new ObjectTransfer(options.storage, options.signer, options.clock ?? Date.now);
  return async (request) => {
    try {
      return await transfer.handle(request);
    } catch (err) {
      if (err instanceof TooLargeError) return s3Error(413, 'EntityTooLarge', err.message);
      if (err instanceof FormSyntaxError) return s3Error(400, 'MalformedPOSTRequest', err.message);
      if (err instanceof IncompleteBodyError) {
        return s3Error(400, 'IncompleteBody', 'the request body ended early');
      }
      return s3Error(500, 'InternalError', 'internal error');
    }
  };
}

/** The file was shorter than the policy's exact size. */
class TooSmallError extends Error {}

class ObjectTransfer {
  constructor(
    private readonly storage: ObjectStorage,
    private readonly signer: ObjectSigner,
    private readonly clock: () => number,
  ) {}

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const method = request.method;
    if (method === 'OPTIONS') return preflight();
    if (url.pathname === OBJECTS_PATH) {
      return method === 'POST' ? this.postForm(request) : notAllowed();
    }
    const key = url.pathname.slice(OBJECTS_PATH.length + 1);
    if (!isObjectKey(key)) return s3Error(404, 'NoSuchKey', 'no such key');
    if (method === 'PUT') return this.putPart(request, key, url.searchParams);
    if (method === 'GET') return this.getObject(request, key, url.searchParams);
    return notAllowed();
  }

  private async postForm(request: Request): Promise<Response> {
    const boundary = formBoundary(request.headers.get('content-type'));
    if (!boundary) {
      return s3Error(412, 'PreconditionFailed', 'the body must be multipart/form-data');
    }
    const declared = contentLength(request);
    if (declared === 'invalid') return s3Error(400, 'InvalidArgument', 'bad Content-Length');
    if (declared !== undefined && declared > ATTACHMENT_BLOB_LIMIT + FORM_OVERHEAD_BYTES) {
      return s3Error(413, 'EntityTooLarge', 'the form is too large');
    }
    const form = new FormReader(
      bodyChunks(request.body),
      boundary,
      ATTACHMENT_BLOB_LIMIT + FORM_OVERHEAD_BYTES,
    );
    const fields = new Map<FormField, string>();
    for (;;) {
      const part = await form.nextPart();
      if (!part) return s3Error(400, 'InvalidArgument', 'the form has no file');
      if (part.name === 'file') break;
      const name = FORM_FIELDS.find((f) => f === part.name);
      // S3: every field must be covered by the policy; the policy covers only these.
      if (!name || part.filename !== undefined) {
        return s3Error(403, 'AccessDenied', 'Invalid according to Policy: Extra input fields');
      }
      if (fields.has(name)) return s3Error(400, 'InvalidArgument', `two ${name} fields`);
      fields.set(name, await form.readField(FIELD_MAX_BYTES));
    }
    const key = fields.get('key');
    const encoded = fields.get('policy');
    const signature = fields.get('signature');
    if (key === undefined) return s3Error(400, 'InvalidArgument', 'the form has no key');
    if (encoded === undefined || signature === undefined) {
      return s3Error(403, 'AccessDenied', 'the form has no policy or signature');
    }
    if (!this.signer.verifyPolicy(encoded, signature)) {
      return s3Error(403, 'SignatureDoesNotMatch', 'the policy signature does not match');
    }
    const policy = decodePolicy(encoded);
    if (!policy) return s3Error(400, 'InvalidPolicyDocument', 'malformed policy');
    if (this.clock() > policy.expires) {
      return s3Error(403, 'AccessDenied', 'Invalid according to Policy: Policy expired.');
    }
    if (key !== policy.key) {
      return s3Error(
        403,
        'AccessDenied',
        'Invalid according to Policy: Policy Condition failed: key',
      );
    }
    const bound = policy.size + FORM_OVERHEAD_BYTES;
    if (declared !== undefined && declared > bound) {
      return s3Error(413, 'EntityTooLarge', 'the file is larger than the policy allows');
    }
    form.limit(bound);
    try {
      await this.storage.putObject(policy.key, fileBody(form, policy.size));
    } catch (err) {
      if (err instanceof TooSmallError) {
        return s3Error(400, 'EntityTooSmall', 'the file is smaller than the policy requires');
      }
      throw err;
    }
    return new Response(null, { status: 204, headers: corsHeaders() });
  }

  private async putPart(request: Request, key: string, query: URLSearchParams): Promise<Response> {
    const uploadId = query.get('uploadId') ?? '';
    const partNumber = decimal(query.get('partNumber'));
    const maxBytes = decimal(query.get('maxBytes'));
    const expires = decimal(query.get('expires'));
    if (
      !UPLOAD_ID_PATTERN.test(uploadId) ||
      partNumber === undefined ||
      partNumber < 1 ||
      partNumber > MAX_PART_NUMBER ||
      maxBytes === undefined ||
      expires === undefined
    ) {
      return s3Error(400, 'InvalidArgument', 'malformed part URL');
    }
    const grant: UrlGrant = { method: 'PUT', key, uploadId, partNumber, maxBytes, expires };
    const denied = this.check(grant, query.get('signature'));
    if (denied) return denied;
    const declared = contentLength(request);
    if (declared === 'invalid') return s3Error(400, 'InvalidArgument', 'bad Content-Length');
    if (declared !== undefined && declared > maxBytes) {
      return s3Error(413, 'EntityTooLarge', `the part passes ${maxBytes} bytes`);
    }
    if (!(await this.storage.hasUpload(key, uploadId))) return noSuchUpload();
    const part = await this.storage.putPart(
      key,
      uploadId,
      partNumber,
      limited(bodyChunks(request.body), maxBytes),
    );
    if (!part) return noSuchUpload();
    return new Response(null, { status: 200, headers: { ...corsHeaders(), etag: part.etag } });
  }

  private async getObject(
    request: Request,
    key: string,
    query: URLSearchParams,
  ): Promise<Response> {
    const expires = decimal(query.get('expires'));
    if (expires === undefined) return s3Error(400, 'InvalidArgument', 'malformed object URL');
    const denied = this.check({ method: 'GET', key, expires }, query.get('signature'));
    if (denied) return denied;
    const size = await this.storage.objectSize(key);
    if (size === undefined) return s3Error(404, 'NoSuchKey', 'the object does not exist');
    const range = parseRange(request.headers.get('range'), size);
    if (range === 'unsatisfiable') {
      return s3Error(416, 'InvalidRange', 'the range is not satisfiable', {
        'content-range': `bytes */${size}`,
      });
    }
    const body = await this.storage.readObject(key, range);
    if (!body) return s3Error(404, 'NoSuchKey', 'the object does not exist');
    const headers: Record<string, string> = {
      ...corsHeaders(),
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      'cache-control': 'no-store',
    };
    if (!range) {
      return new Response(body, {
        status: 200,
        headers: { ...headers, 'content-length': String(size) },
      });
    }
    return new Response(body, {
      status: 206,
      headers: {
        ...headers,
        'content-length': String(range.end - range.start + 1),
        'content-range': `bytes ${range.start}-${range.end}/${size}`,
      },
    });
  }

  /** The refusal of a URL whose signature does not match or that has expired, if any. */
  private check(grant: UrlGrant, signature: string | null): Response | undefined {
    if (signature === null || !this.signer.verifyUrl(grant, signature)) {
      return s3Error(403, 'SignatureDoesNotMatch', 'the signature does not match');
    }
    if (this.clock() > grant.expires) return s3Error(403, 'AccessDenied', 'Request has expired');
    return undefined;
  }
}

/**
 * The file part of a form: exactly `size` bytes (413 past it, 400 short of it), and the last
 * part of the form (a part after it is refused before anything is stored).
 */
async function* fileBody(form: FormReader, size: number): AsyncGenerator<Uint8Array> {
  let received = 0;
  for await (const chunk of limited(form.streamBody(), size)) {
    received += chunk.length;
    yield chunk;
  }
  if (!form.closed) throw new FormSyntaxError('the file must be the form’s last part');
  if (received < size) throw new TooSmallError();
}

/**
 * The single byte range of a `Range` header within an object of `size` bytes: undefined for
 * none (or one S3 ignores: malformed, several ranges), `unsatisfiable` when it starts past the
 * end.
 */
export function parseRange(
  header: string | null,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  // RFC 9110 §14.1.1: a last position before the first makes the range invalid (ignored).
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}

function decimal(value: string | null): number | undefined {
  return value !== null && DECIMAL_PATTERN.test(value) ? Number(value) : undefined;
}

function contentLength(request: Request): number | undefined | 'invalid' {
  const value = request.headers.get('content-length');
  if (value === null) return undefined;
  return DECIMAL_PATTERN.test(value) ? Number(value) : 'invalid';
}

/**
 * CORS for browsers, as the bucket's CORS rule has it (infra/lib/envelope-bucket.ts): any
 * origin, `ETag` readable (a browser completing parts needs it), `Content-Type` and `Range`
 * allowed in requests.
 */
function corsHeaders(): Record<string, string> {
  return {
    'access-control-allow-origin': '*',
    'access-control-expose-headers': 'ETag, Content-Range',
  };
}

function preflight(): Response {
  return new Response(null, {
    status: 204,
    headers: {
      ...corsHeaders(),
      'access-control-allow-methods': 'GET, PUT, POST',
      'access-control-allow-headers': 'Content-Type, Range',
      'access-control-max-age': '600',
    },
  });
}

function notAllowed(): Response {
  return s3Error(405, 'MethodNotAllowed', 'the method is not allowed on this resource');
}

function noSuchUpload(): Response {
  return s3Error(404, 'NoSuchUpload', 'the upload does not exist');
}

/** An S3-style error answer: the status and `<Error><Code>…</Code><Message>…</Message>`. */
function s3Error(
  status: number,
  code: string,
  message: string,
  extra: Record<string, string> = {},
): Response {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`;
  return new Response(body, {
    status,
    headers: { ...corsHeaders(), 'content-type': 'application/xml', ...extra },
  });
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
