import { describe, expect, it } from 'vitest';
import {
  type EmptierDeps,
  type EmptierEvent,
  type EmptierResponse,
  onEvent,
} from '#infra/bucket-emptier/emptier.ts';

const URL = 'https://cloudformation-custom-resource-response.example/signed';

function event(type: EmptierEvent['RequestType'], bucket = 'envelopes'): EmptierEvent {
  return {
    RequestType: type,
    ResponseURL: URL,
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Sealpost-dev/1',
    RequestId: 'req-1',
    LogicalResourceId: 'EnvelopesEmptier4B67CE08',
    ...(type === 'Create' ? {} : { PhysicalResourceId: bucket }),
    ResourceProperties: { BucketName: bucket },
  };
}

/**
 * A bucket of `objects` keys listed two per page, the continuation token being the last key
 * listed (as in S3, a page continues after it even when earlier keys were deleted).
 */
function fakeS3(objects: string[], marked: boolean) {
  const calls: string[] = [];
  const responses: [string, EmptierResponse][] = [];
  let stored = [...objects];
  const deps: EmptierDeps = {
    isMarked: async (bucket) => {
      calls.push(`isMarked ${bucket}`);
      return marked;
    },
    listKeys: async (bucket, token) => {
      calls.push(`list ${bucket} ${token ?? '-'}`);
      const after = stored.filter((k) => token === undefined || k > token).sort();
      const keys = after.slice(0, 2);
      return after.length > 2 ? { keys, next: keys[1]! } : { keys };
    },
    deleteKeys: async (bucket, keys) => {
      calls.push(`delete ${bucket} ${keys.join(',')}`);
      stored = stored.filter((k) => !keys.includes(k));
    },
    respond: async (url, response) => {
      responses.push([url, response]);
    },
  };
  return { deps, calls, responses, stored: () => stored };
}

const base = {
  StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Sealpost-dev/1',
  RequestId: 'req-1',
  LogicalResourceId: 'EnvelopesEmptier4B67CE08',
};

describe('bucket emptier', () => {
  it('Create and Update only record the bucket name as the physical id', async () => {
    for (const type of ['Create', 'Update'] as const) {
      const s3 = fakeS3(['a'], true);
      const res = await onEvent(event(type), s3.deps);
      expect(res).toEqual({ ...base, Status: 'SUCCESS', PhysicalResourceId: 'envelopes' });
      expect(s3.responses).toEqual([[URL, res]]);
      expect(s3.calls).toEqual([]);
    }
  });

  it('Delete empties a marked bucket page by page, then answers SUCCESS', async () => {
    const s3 = fakeS3(['env/1', 'env/2', 'env/3', 'other'], true);
    const res = await onEvent(event('Delete'), s3.deps);
    expect(res).toEqual({ ...base, Status: 'SUCCESS', PhysicalResourceId: 'envelopes' });
    expect(s3.stored()).toEqual([]);
    expect(s3.calls).toEqual([
      'isMarked envelopes',
      'list envelopes -',
      'delete envelopes env/1,env/2',
      'list envelopes env/2',
      'delete envelopes env/3,other',
    ]);
  });

  it('Delete leaves a bucket without the tag alone (the stage now retains its data)', async () => {
    const s3 = fakeS3(['env/1'], false);
    const res = await onEvent(event('Delete'), s3.deps);
    expect(res.Status).toBe('SUCCESS');
    expect(s3.stored()).toEqual(['env/1']);
    expect(s3.calls).toEqual(['isMarked envelopes']);
  });

  it('answers FAILED with the reason when emptying fails, and still answers', async () => {
    const s3 = fakeS3(['env/1'], true);
    s3.deps.deleteKeys = async () => {
      throw new Error('1 objects could not be deleted');
    };
    const res = await onEvent(event('Delete'), s3.deps);
    expect(res).toEqual({
      ...base,
      Status: 'FAILED',
      Reason: 'Error: 1 objects could not be deleted',
      PhysicalResourceId: 'envelopes',
    });
    expect(s3.responses).toEqual([[URL, res]]);
  });

  it('answers FAILED when the bucket name is missing', async () => {
    const s3 = fakeS3([], true);
    const res = await onEvent(event('Create', ''), s3.deps);
    expect(res.Status).toBe('FAILED');
    expect(res.Reason).toBe('TypeError: BucketName property is required');
    expect(s3.calls).toEqual([]);
  });
});
