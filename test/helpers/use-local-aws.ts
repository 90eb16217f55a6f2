/**
 * One DynamoDB Local + s3rver pair (shared through the global setup when it runs) and a fresh
 * table for the test file or `describe` block that calls this: started before its tests,
 * stopped after them. Read `aws` and `table` inside tests and hooks, not at collection time.
 */
import { afterAll, beforeAll } from 'vitest';
import { type LocalAws, startLocalAws } from './local-aws.ts';

export interface LocalAwsFixture {
  readonly aws: LocalAws;
  readonly table: string;
}

export function useLocalAws(): LocalAwsFixture {
  const state: { aws?: LocalAws; table?: string } = {};
  beforeAll(async () => {
    state.aws = await startLocalAws();
    state.table = await state.aws.createTable();
  });
  afterAll(async () => {
    await state.aws?.stop();
  });
  return {
    get aws() {
      if (!state.aws) throw new Error('local AWS engines are not started yet');
      return state.aws;
    },
    get table() {
      if (state.table === undefined) throw new Error('local AWS table is not created yet');
      return state.table;
    },
  };
}
