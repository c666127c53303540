import { execFileSync } from 'node:child_process';

/**
 * Tests import the built `pigeonhole/client` (and the browser tests load it from `/client/`), so it is
 * bundled again before every run: a test never runs against a stale build of the source beside it.
 * The declarations (`npm run build:client`) are for `tsc`, which `npm install` has built them for.
 */
export default function setup(): void {
  execFileSync('npm', ['run', '--silent', 'build:client:js'], { stdio: 'inherit' });
}
