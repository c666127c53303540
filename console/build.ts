/**
 * `npm run build:console`: bundles the console into `dist/console/` (index.html, app.js, app.css),
 * everything the page needs, so it runs with no CDN under the admin server's CSP (no inline script).
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const consoleSource = fileURLToPath(new URL('.', import.meta.url));
export const consoleOutput = fileURLToPath(new URL('../dist/console/', import.meta.url));

export async function buildConsole(outDir = consoleOutput): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join(consoleSource, 'main.ts')],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    format: 'esm',
    target: ['es2022', 'chrome111', 'firefox111', 'safari16'],
    minify: true,
    sourcemap: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'app.css', 'favicon.svg']) await copyFile(join(consoleSource, file), join(outDir, file));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildConsole();
