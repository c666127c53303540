/**
 * The shape of lib/ (see README, Layout): no module imports itself back through others, and the
 * adapters are reached from the capabilities only through their ports. Read with TypeScript's own
 * import scanner, type-only imports included: a cycle of types still ties two modules together.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');

function sourcesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourcesUnder(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .map((imported) => imported.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => path.resolve(path.dirname(file), name))
    .map((base) => [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => fs.existsSync(candidate)) ?? base);
}

const modules = sourcesUnder(path.join(root, 'lib'));
const graph = new Map(modules.map((file) => [file, importsOf(file).filter((target) => target.startsWith(path.join(root, 'lib')))]));
const name = (file: string) => path.relative(root, file);

/** Every cycle's modules, found by a depth-first walk (each reported once, from where it was entered). */
function cycles(): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next].map(name));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of modules) if (!state.has(file)) visit(file);
  return found;
}

describe('lib/', () => {
  it('has no import cycle', () => {
    expect(cycles()).toEqual([]);
  });

  it('reaches DynamoDB, AWS and Lambda only from the adapters, never from a capability', () => {
    const adapters = ['dynamodb', 'aws', 'lambda'].map((folder) => path.join(root, 'lib', folder) + path.sep);
    const isAdapter = (file: string) => adapters.some((folder) => file.startsWith(folder));
    const offending = [...graph]
      .filter(([file]) => !isAdapter(file))
      .flatMap(([file, targets]) => targets.filter(isAdapter).map((target) => `${name(file)} -> ${name(target)}`));
    expect(offending).toEqual([]);
  });
});
