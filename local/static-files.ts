/**
 * Static files beside the local admin API on :3002 (SPEC §1): the admin console at `/`, the example
 * apps at `/examples/`, and the built client SDK at `/client/`, so a browser gets everything from one
 * origin and no CDN. Anything under the admin API's base path is never served from here.
 */
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

/** URL prefix (ending in `/`) → the folder it serves. Longest prefix wins. */
export type StaticMounts = Record<string, string>;

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** The file a GET for `pathname` names under `mounts`, if any; never one outside its mount's folder. */
export function resolveStatic(mounts: StaticMounts, pathname: string): string | undefined {
  const prefix = Object.keys(mounts)
    .filter((candidate) => pathname.startsWith(candidate))
    .sort((a, b) => b.length - a.length)[0];
  if (prefix === undefined) return undefined;
  const root = mounts[prefix] as string;
  let relative: string;
  try {
    relative = decodeURIComponent(pathname.slice(prefix.length));
  } catch {
    return undefined;
  }
  if (relative.includes('\0')) return undefined;
  if (relative === '' || relative.endsWith('/')) relative += 'index.html';
  const file = normalize(join(root, relative));
  return file.startsWith(normalize(root) + sep) || file === normalize(root) ? file : undefined;
}

/** Serves the file if the request names one; false when it does not, so the caller answers instead. */
export async function serveStatic(mounts: StaticMounts, req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const file = resolveStatic(mounts, pathname);
  if (!file) return false;
  const info = await stat(file).catch(() => undefined);
  if (info?.isDirectory()) {
    // `/examples/web-chat` → `/examples/web-chat/`, so the page's relative links resolve.
    res.writeHead(301, { location: `${pathname}/` }).end();
    return true;
  }
  if (!info?.isFile()) return false;
  const body = await readFile(file);
  res.writeHead(200, {
    'content-type': contentTypes[extname(file)] ?? 'application/octet-stream',
    'content-length': body.length,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    // The console holds the admin key: no other site may frame it or feed it scripts.
    'content-security-policy': "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
