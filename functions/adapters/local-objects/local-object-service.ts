/**
 * The local object service assembled: the {@link LocalAttachmentObjects} the domain uses and
 * the HTTP handler that serves its URLs, sharing one signer (a fresh random secret unless
 * given) and one storage. The local server and the test kit put the handler in front of the
 * app with {@link withObjectService}.
 */
import { LocalAttachmentObjects } from './local-attachment-objects.ts';
import { ObjectSigner } from './object-signing.ts';
import type { ObjectStorage } from './object-storage.ts';
import { createObjectTransfer, isObjectRequest } from './object-transfer.ts';

/** Options of {@link createLocalObjectService}. */
export interface LocalObjectServiceOptions {
  readonly storage: ObjectStorage;
  /** Origin of the URLs handed out (see {@link LocalAttachmentObjects}). */
  readonly baseUrl: string | (() => string);
  /** The deployment's part size: the bound of a part URL. */
  readonly partBytes: number;
  /** Clock of URL expiry checks (ms). @default Date.now */
  readonly clock?: () => number;
  /** @default a signer under 32 fresh random bytes */
  readonly signer?: ObjectSigner;
}

/** The two faces of the local object service. */
export interface LocalObjectService {
  /** The `AttachmentObjects` port. */
  readonly objects: LocalAttachmentObjects;
  /** Serves `/_objects` requests (see {@link withObjectService}). */
  readonly handle: (request: Request) => Promise<Response>;
  readonly storage: ObjectStorage;
}

/**
 * The port and its HTTP handler over `storage`.
 *
 * @example
 * const service = createLocalObjectService({
 *   storage: new MemoryObjectStorage(),
 *   baseUrl: 'http://sealpost.test',
 *   partBytes: 16 * 1024 * 1024,
 * });
 * @throws {RangeError} if `partBytes` is not an integer in 1..5 GiB.
 */
export function createLocalObjectService(options: LocalObjectServiceOptions): LocalObjectService {
  const signer = options.signer ?? ObjectSigner.random();
  const objects = new LocalAttachmentObjects(options.storage, {
    baseUrl: options.baseUrl,
    signer,
    partBytes: options.partBytes,
  });
  const handle = createObjectTransfer({
    storage: options.storage,
    signer,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return { objects, handle, storage: options.storage };
}

/**
 * A fetch handler that serves `/_objects` with `objects` and everything else with `app`.
 *
 * @example createNodeServer(withObjectService(app.fetch, service.handle), { hostname })
 */
export function withObjectService(
  app: (request: Request) => Response | Promise<Response>,
  objects: (request: Request) => Promise<Response>,
): (request: Request) => Response | Promise<Response> {
  return (request) => (isObjectRequest(request.url) ? objects(request) : app(request));
}
