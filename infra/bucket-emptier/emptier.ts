/**
 * Empties a bucket when its custom resource is deleted, so `cdk destroy` can delete a bucket
 * that still holds envelopes (S3 refuses to delete a non-empty bucket). Only a bucket that
 * carries {@link EMPTY_ON_DELETE_TAG} is emptied: switching a stage from destroy to retain
 * first removes the tag (an update), then deletes the custom resource (cleanup), so the
 * retained bucket keeps its mail.
 *
 * Answers CloudFormation itself (a PUT to the presigned response URL), so it needs no
 * provider framework function.
 */

/** Tag (key, value `true`) that allows the emptier to delete a bucket's objects. */
export const EMPTY_ON_DELETE_TAG = 'sealpost:empty-on-delete';

/** Properties the construct passes to the custom resource. */
export interface EmptierProperties {
  readonly BucketName: string;
}

/** The parts of a CloudFormation custom resource request the emptier reads. */
export interface EmptierEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: EmptierProperties;
}

/** The response CloudFormation expects at the response URL. */
export interface EmptierResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
}

/** Side effects, injected so the emptier is testable without AWS. */
export interface EmptierDeps {
  /** Whether the bucket exists and carries {@link EMPTY_ON_DELETE_TAG} = `true`. */
  isMarked(bucket: string): Promise<boolean>;
  /** One page of object keys, and the token of the next page if there is one. */
  listKeys(bucket: string, token?: string): Promise<{ keys: string[]; next?: string }>;
  /** Deletes up to 1000 objects. */
  deleteKeys(bucket: string, keys: string[]): Promise<void>;
  /** Sends the response to CloudFormation. */
  respond(url: string, response: EmptierResponse): Promise<void>;
}

/** Deletes every object of `bucket` if it is marked; returns how many were deleted. */
export async function emptyBucket(deps: EmptierDeps, bucket: string): Promise<number> {
  if (!(await deps.isMarked(bucket))) return 0;
  let deleted = 0;
  let token: string | undefined;
  do {
    const page = await deps.listKeys(bucket, token);
    if (page.keys.length > 0) await deps.deleteKeys(bucket, page.keys);
    deleted += page.keys.length;
    token = page.next;
  } while (token !== undefined);
  return deleted;
}

/**
 * Handles one custom resource request and always answers CloudFormation (a request left
 * unanswered blocks the stack for an hour). Create and Update only record the bucket name.
 *
 * @throws Error only if the response itself cannot be delivered
 * @example
 * ```ts
 * await onEvent(event, deps); // Delete: empties the marked bucket, then answers SUCCESS
 * ```
 */
export async function onEvent(event: EmptierEvent, deps: EmptierDeps): Promise<EmptierResponse> {
  const bucket = event.ResourceProperties.BucketName;
  const base = {
    PhysicalResourceId: event.PhysicalResourceId ?? bucket,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
  let response: EmptierResponse;
  try {
    if (typeof bucket !== 'string' || bucket.length === 0) {
      throw new TypeError('BucketName property is required');
    }
    if (event.RequestType === 'Delete') {
      await emptyBucket(deps, bucket);
      response = { ...base, Status: 'SUCCESS' };
    } else {
      // A new bucket name is a new physical id: CloudFormation then deletes the old one.
      response = { ...base, Status: 'SUCCESS', PhysicalResourceId: bucket };
    }
  } catch (err) {
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : 'unknown error';
    response = { ...base, Status: 'FAILED', Reason: reason };
  }
  await deps.respond(event.ResponseURL, response);
  return response;
}
