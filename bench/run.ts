// `npm run bench [-- name…]`: runs the named benchmarks (all by default) and prints their tables.
import { benchLog } from './log.ts';
import { printTable, type Row } from './support.ts';

const benchmarks: Record<string, { title: string; run: () => Promise<Row[]> }> = {
  log: { title: 'event log (PostgreSQL adapter)', run: () => benchLog() },
};

const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const selected = names.length > 0 ? names : Object.keys(benchmarks);
for (const name of selected) {
  const bench = benchmarks[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(benchmarks).join(', ')}`);
    process.exit(2);
  }
  printTable(bench.title, await bench.run());
}
