/**
 * The size of `pigeonhole/client` as a browser downloads it: the SDK bundled, minified and compressed,
 * built here from the source with the same esbuild options as `npm run build:client`.
 */
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { build } from 'esbuild';
import { benchDir, report, round } from './support';

const targetKb = 8;

async function bundle(minify: boolean): Promise<Buffer> {
  const result = await build({
    entryPoints: [join(benchDir, '..', 'client', 'index.ts')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2020',
    minify,
    write: false,
    logLevel: 'warning',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error('esbuild produced no output');
  return Buffer.from(output.contents);
}

const kb = (bytes: number) => round(bytes / 1024, 1);

const plain = await bundle(false);
const minified = await bundle(true);
const gzipped = gzipSync(minified, { level: 9 }).length;
const brotli = brotliCompressSync(minified, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;

report({
  name: 'client-size',
  title: 'Client SDK size',
  tables: [
    {
      title: '`pigeonhole/client` bundled (no runtime dependency), in KB',
      columns: ['bundled', 'minified', 'minified + gzip', 'minified + brotli'],
      rows: [[kb(plain.length), kb(minified.length), kb(gzipped), kb(brotli)]],
    },
  ],
  targets: [
    {
      what: 'client SDK, minified and gzipped',
      target: `≤ ${targetKb} KB`,
      measured: `${kb(gzipped)} KB`,
      met: gzipped <= targetKb * 1024,
      ifMissed: 'Every feature of the client SDK is in it; trimming means moving optional parts (the localStorage outbox) to their own entry point.',
    },
  ],
  notes: ['The protocol module is imported for its types only, so no zod reaches the bundle.'],
});
