// `npm run bench [-- name… --events=N --conversations=N]`: runs the named benchmarks (all by default)
// and prints their tables.
import { benchApi } from './api.ts';
import { benchLog } from './log.ts';
import { benchProjections } from './projections.ts';
import { printTable, type Row } from './support.ts';
import { benchTelegram } from './telegram.ts';

const args = process.argv.slice(2);

/** `--name=N` as a positive integer (underscores and commas allowed: 1_000_000), or undefined. */
const numberFlag = (name: string): number | undefined => {
  const arg = args.find((a) => a.startsWith(`--${name}=`));
  if (arg === undefined) return undefined;
  const value = Number(arg.slice(name.length + 3).replaceAll(/[_,]/g, ''));
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`${arg}: expected a positive integer`);
    process.exit(2);
  }
  return value;
};

const known = new Set(['events', 'conversations', 'messages']);
for (const a of args.filter((x) => x.startsWith('-'))) {
  const name = /^--([a-z-]+)=/.exec(a)?.[1];
  if (!name || !known.has(name)) {
    console.error(`unknown option "${a}"; known: ${[...known].map((k) => `--${k}=N`).join(', ')}`);
    process.exit(2);
  }
}

const benchmarks: Record<string, { title: string; run: () => Promise<Row[]> }> = {
  log: { title: 'event log (PostgreSQL adapter)', run: () => benchLog() },
  projections: {
    title: 'projections (rebuild from zero, page queries)',
    run: () =>
      benchProjections({
        events: numberFlag('events') ?? 1_000_000,
        conversations: numberFlag('conversations') ?? 10_000,
      }),
  },
  telegram: {
    title: 'telegram (whole app: webhook → topic latency, webhook ingest)',
    run: () => benchTelegram(),
  },
  api: {
    title: 'api (whole app: POST throughput, list latency)',
    run: () => benchApi({ messages: numberFlag('messages') ?? 1_000_000 }),
  },
};

const names = args.filter((a) => !a.startsWith('-'));
const selected = names.length > 0 ? names : Object.keys(benchmarks);
for (const name of selected) {
  const bench = benchmarks[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(benchmarks).join(', ')}`);
    process.exit(2);
  }
  printTable(bench.title, await bench.run());
}
