import { describe, expect, it } from 'vitest';
import { resolveStatic } from '../../local/static-files';

const mounts = { '/': '/srv/console', '/examples/': '/srv/examples' };

describe('resolveStatic', () => {
  it('serves index.html for a folder and the longest matching mount', () => {
    expect(resolveStatic(mounts, '/')).toBe('/srv/console/index.html');
    expect(resolveStatic(mounts, '/app.js')).toBe('/srv/console/app.js');
    expect(resolveStatic(mounts, '/examples/web-chat/')).toBe('/srv/examples/web-chat/index.html');
  });

  it('never names a file outside its mount', () => {
    expect(resolveStatic(mounts, '/../etc/passwd')).toBeUndefined();
    expect(resolveStatic(mounts, '/examples/%2e%2e/%2e%2e/etc/passwd')).toBeUndefined();
    expect(resolveStatic(mounts, '/examples/..%2fconsole/app.js')).toBeUndefined();
    expect(resolveStatic(mounts, '/a%00b')).toBeUndefined();
    expect(resolveStatic(mounts, '/%E0%A4%A')).toBeUndefined();
  });
});
