/**
 * Which Web Push endpoints the service posts to (docs/SERVICE.md §7.3): only https on the
 * default port to a listed host (`*.` for subdomains), plain-HTTP loopback only where allowed,
 * never user info; checked on the URL as every parser reads it.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_PUSH_ALLOWED_HOSTS } from '#functions/deployment.ts';
import { allowedEndpoint, hostMatches } from '#functions/domain/push-subscription.ts';

const deployed = { allowedHosts: DEFAULT_PUSH_ALLOWED_HOSTS, allowLoopback: false };
const local = { ...deployed, allowLoopback: true };

describe('hostMatches', () => {
  it('matches a name exactly, and a wildcard only on subdomains', () => {
    expect(hostMatches('fcm.googleapis.com', 'fcm.googleapis.com')).toBe(true);
    expect(hostMatches('FCM.googleapis.com', 'fcm.googleapis.com')).toBe(true);
    expect(hostMatches('x.fcm.googleapis.com', 'fcm.googleapis.com')).toBe(false);
    expect(hostMatches('web.push.apple.com', '*.push.apple.com')).toBe(true);
    expect(hostMatches('a.b.push.apple.com', '*.push.apple.com')).toBe(true);
    expect(hostMatches('push.apple.com', '*.push.apple.com')).toBe(false);
    expect(hostMatches('evilpush.apple.com', '*.push.apple.com')).toBe(false);
    expect(hostMatches('push.apple.com.evil.example', '*.push.apple.com')).toBe(false);
  });
});

describe('allowedEndpoint', () => {
  it('accepts the browsers push services and returns the normalized URL', () => {
    for (const endpoint of [
      'https://fcm.googleapis.com/fcm/send/abc:def',
      'https://updates.push.services.mozilla.com/wpush/v2/gAAAA',
      'https://web.push.apple.com/QGuQyavXutnMnFp',
      'https://wns2-par02p.notify.windows.com/w/?token=BQYAAA%3d%3d',
    ]) {
      expect(allowedEndpoint(endpoint, deployed), endpoint).toBe(endpoint);
    }
    expect(allowedEndpoint('https://FCM.GoogleAPIs.com/fcm/send/x', deployed)).toBe(
      'https://fcm.googleapis.com/fcm/send/x',
    );
    expect(allowedEndpoint('https://fcm.googleapis.com:443/x', deployed)).toBe(
      'https://fcm.googleapis.com/x',
    );
  });

  it('refuses other hosts, ports, schemes and user info', () => {
    for (const endpoint of [
      'https://example.com/fcm/send/abc',
      'https://fcm.googleapis.com.example.com/x',
      'https://fcm.googleapis.com:8443/x',
      'https://user:pw@fcm.googleapis.com/x',
      'https://fcm.googleapis.com@example.com/x',
      'http://fcm.googleapis.com/x',
      'ftp://fcm.googleapis.com/x',
      'https://169.254.169.254/latest/meta-data',
      'https://[::1]/x',
      'not a url',
    ]) {
      expect(allowedEndpoint(endpoint, local), endpoint).toBeUndefined();
    }
  });

  it('accepts plain-HTTP loopback only where the deployment allows it', () => {
    for (const endpoint of [
      'http://localhost:8090/notify/a',
      'http://127.0.0.1:8090/notify/a',
      'http://[::1]:8090/notify/a',
    ]) {
      expect(allowedEndpoint(endpoint, local), endpoint).toBe(endpoint);
      expect(allowedEndpoint(endpoint, deployed), endpoint).toBeUndefined();
    }
    expect(allowedEndpoint('http://127.0.0.2/x', local)).toBeUndefined();
    expect(allowedEndpoint('http://localhost.example.com/x', local)).toBeUndefined();
    expect(allowedEndpoint('https://localhost/x', local)).toBeUndefined();
  });
});
