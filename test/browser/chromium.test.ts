/** Which Chromium the browser tests launch (./chromium.ts), without launching one. */
import { describe, expect, it } from 'vitest';
import { chromiumSource, SYSTEM_CHROMIUM } from './chromium.ts';

const installed = (path: string) => path === SYSTEM_CHROMIUM;
const absent = () => false;

describe('chromiumSource', () => {
  it('takes the system Chromium when it is installed', () => {
    expect(chromiumSource(undefined, installed)).toEqual({ kind: 'system', path: SYSTEM_CHROMIUM });
    expect(chromiumSource('system', installed)).toEqual({ kind: 'system', path: SYSTEM_CHROMIUM });
  });

  it('falls back to the npm package when no system Chromium is installed', () => {
    expect(chromiumSource(undefined, absent)).toEqual({ kind: 'npm' });
    expect(chromiumSource('', absent)).toEqual({ kind: 'npm' });
  });

  it('takes the npm package or a given executable when told to', () => {
    expect(chromiumSource('npm', installed)).toEqual({ kind: 'npm' });
    expect(chromiumSource('/opt/chrome/chrome', installed)).toEqual({
      kind: 'path',
      path: '/opt/chrome/chrome',
    });
  });

  it('refuses a forced system Chromium that is missing, naming the package', () => {
    expect(() => chromiumSource('system', absent)).toThrow(/apt-get install -y chromium/);
  });
});
