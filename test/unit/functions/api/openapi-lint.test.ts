/**
 * The published OpenAPI document passes a real linter's recommended rules (Redocly CLI, no
 * rule turned off): the document is written to a temporary file and linted by the CLI from
 * node_modules, which must exit 0 with no error and no warning.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '#functions/api/openapi.ts';
import { MULTI_RECIPIENT_CONTENT_TYPE } from '#sdk/wire/api/routes.ts';

const run = promisify(execFile);
const REDOCLY = join(process.cwd(), 'node_modules', '.bin', 'redocly');

interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: { ruleId: string; message: string }[];
}

describe('OpenAPI document', () => {
  it('passes redocly lint with the recommended rules, without errors or warnings', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sealpost-openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      await writeFile(file, JSON.stringify(openApiDocument(), null, 2));
      const { stdout } = await run(REDOCLY, ['lint', file, '--format=json'], {
        cwd: dir,
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
        timeout: 60_000,
      }).catch((err: { stdout?: string; code?: number }) => {
        throw new Error(`redocly lint exited ${err.code}: ${err.stdout ?? ''}`);
      });
      const report: LintReport = JSON.parse(stdout);
      expect(report.problems).toEqual([]);
      expect(report.totals).toEqual({ errors: 0, warnings: 0, ignored: 0 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('marks public routes with empty security, types integer parameters, names every body', () => {
    const doc = openApiDocument() as {
      paths: Record<string, Record<string, { security: unknown[]; parameters: unknown[] }>>;
      components: { schemas: Record<string, unknown> };
      servers: unknown[];
      info: { license: unknown };
    };
    expect(doc.paths['/v1/health']!['get']!.security).toEqual([]);
    expect(doc.paths['/v1/accounts/{address}']!['put']!.security).toEqual([]);
    expect(doc.paths['/v1/messages/{address}']!['put']!.security).toEqual([
      { accessKey: [] },
      { anonymousToken: [] },
      {},
    ]);
    expect(doc.paths['/v1/sealed/bundles/{address}']!['get']!.security).toEqual([
      { accessKey: [] },
      { anonymousToken: [] },
      {},
    ]);
    expect(doc.paths['/v1/tokens']!['post']!.security).toEqual([{ ownerSignature: [] }]);
    expect(doc.paths['/v1/tokens/keys']!['get']!.security).toEqual([]);
    expect(doc.paths['/v1/messages']!['get']!.parameters).toContainEqual({
      name: 'limit',
      in: 'query',
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: 100 },
    });
    expect(doc.paths['/v1/bundles/{address}/{deviceId}']!['get']!.parameters).toContainEqual({
      name: 'deviceId',
      in: 'path',
      required: true,
      schema: { type: 'integer', minimum: 1, maximum: 4294967295 },
    });
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['SendRequest', 'FetchResponse', 'BundleDevice', 'Error']),
    );
    expect(doc.info.license).toEqual({ name: 'Apache-2.0', identifier: 'Apache-2.0' });
    expect(doc.servers).toHaveLength(1);
  });

  it('documents the binary multi-recipient body, its authorization and the accounts of its errors', () => {
    const doc = openApiDocument() as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
      components: { schemas: Record<string, unknown> };
    };
    const multi = doc.paths['/v1/messages/multi']!['put']!;
    const identified = doc.paths['/v1/messages/multi/identified']!['put']!;
    for (const op of [multi, identified]) {
      expect(op['requestBody']).toMatchObject({
        required: true,
        content: {
          [MULTI_RECIPIENT_CONTENT_TYPE]: { schema: { type: 'string', format: 'binary' } },
        },
      });
      expect(Object.keys((op['requestBody'] as { content: object }).content)).toEqual([
        MULTI_RECIPIENT_CONTENT_TYPE,
      ]);
      expect(op['responses']).toHaveProperty('415');
      expect(op['responses']).toHaveProperty('409');
    }
    // The per-account authorizations are in the body: no header authorizes the anonymous route.
    expect(multi['security']).toEqual([]);
    expect(identified['security']).toEqual([{ ownerSignature: [] }]);
    expect(doc.components.schemas['Error']).toMatchObject({
      properties: {
        error: {
          properties: {
            accounts: { type: 'array', items: { required: ['address'] } },
          },
        },
      },
    });
  });
});
