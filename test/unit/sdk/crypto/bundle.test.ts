/**
 * `#crypto-default` keeps `node:crypto` out of browser bundles: bundling sdk/crypto/index.ts for
 * the browser must pull in no Node built-in, while the same entry bundled for Node does select
 * the node:crypto backend (so the first check is not vacuous).
 */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { defaultBackend } from '#sdk/crypto/index.ts';

const entry = new URL('../../../../sdk/crypto/index.ts', import.meta.url).pathname;

async function bundle(platform: 'browser' | 'node'): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform,
    format: 'esm',
    conditions: ['sealpost-source'],
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

const NODE_BUILTIN_IMPORT =
  /(?:from\s*["']|import\s*\(\s*["']|require\s*\(\s*["'])(?:node:|(?:crypto|fs|path|buffer|os)["'])/;

describe('crypto bundles', () => {
  it('resolves the default backend to node:crypto under Node', () => {
    expect(defaultBackend.name).toBe('node');
  });

  it('bundles for the browser without any Node built-in', async () => {
    const code = await bundle('browser');
    expect(code).toContain('webcrypto');
    expect(code).not.toMatch(NODE_BUILTIN_IMPORT);
    expect(code).not.toContain('node:');
  });

  it('bundles for Node with the node:crypto backend', async () => {
    const code = await bundle('node');
    expect(code).toMatch(NODE_BUILTIN_IMPORT);
    expect(code).toContain('"node:crypto"');
  });
});
