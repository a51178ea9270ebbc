// `npm run bench [-- name… --flag=N…]`: runs the named benchmarks (all four by default), each on a
// throwaway durable embedded PostgreSQL of its own, prints each one's table as it finishes and, when
// more than one ran, one combined table at the end: every figure with a goal, every reference,
// whether each goal is met. `npm run bench -- scale` runs the projections benchmark at several sizes
// instead (see bench/scale.ts); it is not part of the default run. Nor is `npm run bench -- growth`
// (bench/growth.ts): one message's cost as its conversation grows from 100 to 100 000 messages.
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureLtsNode, ltsVersion } from '../scripts/node-lts.ts';
import { benchApi } from './api.ts';
import { benchGrowth } from './growth.ts';
import { benchLog } from './log.ts';
import { ESDB_COLUMN, ESDB_FOOTNOTE } from './log-esdb.ts';
import { benchMigrate } from './migrate.ts';
import { benchProjections } from './projections.ts';
import { benchReports } from './reports.ts';
import { benchScale } from './scale.ts';
import { type ExtraColumn, machine, printGrid, printTable, type Row } from './support.ts';
import { benchTelegram } from './telegram.ts';

const args = process.argv.slice(2);

const positive = (arg: string, text: string) => {
  const value = Number(text.replaceAll(/[_,]/g, ''));
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`${arg}: expected a positive integer`);
    process.exit(2);
  }
  return value;
};

/** `--name=N` as a positive integer (underscores and commas allowed: 1_000_000), or undefined. */
const numberFlag = (name: string): number | undefined => {
  const arg = args.find((a) => a.startsWith(`--${name}=`));
  return arg === undefined ? undefined : positive(arg, arg.slice(name.length + 3));
};

/** `--name=a,b,c` as positive integers (underscores allowed: 100_000,1_000_000), or undefined. */
const listFlag = (name: string): number[] | undefined => {
  const arg = args.find((a) => a.startsWith(`--${name}=`));
  return arg
    ?.slice(name.length + 3)
    .split(',')
    .map((x) => positive(arg, x));
};

const flags: Record<string, string> = {
  events: 'projections, reports: events in the log (default 1000000)',
  conversations: 'projections, reports: conversations (default 10000)',
  rounds: 'projections, reports, scale: rounds of the rebuilds, best kept (default 2)',
  messages: 'api: messages in the read model (default 1000000)',
  'log-events': 'log: events per append figure (default 4000)',
  'migrate-events':
    'migrate: events in the PostgreSQL log copied into the EventStoreDB stand-in (default 100000)',
  sizes: 'scale: comma-separated sizes in events (default 100000,1000000,5000000)',
  'per-conversation': 'scale: events per conversation (default 100)',
  'growth-sizes': 'growth: comma-separated conversation lengths in messages (default 100,1000,10000,100000)',
  'growth-samples': 'growth: measured messages per figure and size (default 30)',
  'growth-budget': 'growth: seconds per size before it stops at 5 samples (default 120)',
  'growth-cold-rounds': 'growth: app restarts per size for the cold-cache figure (default 3)',
  cached: 'growth: conversations cached for the RSS figure (default 5000)',
  'cached-messages': 'growth: messages in each of them (default 1000)',
  'api-profile': 'api: a CPU profile of the POSTs to clients with history, written to this directory',
  'growth-profile': 'growth: only a CPU profile of POSTs at the largest size, written to this directory',
  node: 'lts: the Node of the production image (package.json config.nodeLts; default), current: this one',
};
const placeholder: Record<string, string> = {
  sizes: 'N,N,…',
  'growth-sizes': 'N,N,…',
  'api-profile': 'DIR',
  'growth-profile': 'DIR',
  node: 'lts|current',
};
/** `--name=text` as it is, or undefined. */
const textFlag = (name: string): string | undefined =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) || undefined;
for (const a of args.filter((x) => x.startsWith('-'))) {
  const name = /^--([a-z-]+)=/.exec(a)?.[1];
  if (!name || !(name in flags)) {
    console.error(
      `unknown option "${a}"; known:\n${Object.entries(flags)
        .map(([k, v]) => `  --${k}=${placeholder[k] ?? 'N'}  ${v}`)
        .join('\n')}`,
    );
    process.exit(2);
  }
}

// The figures are production's: they run on the Node the image runs (docs/design.md, "Benchmarks on
// the production Node"), fetched once as for the tests, unless --node=current says otherwise.
const nodeFlag = textFlag('node') ?? 'lts';
if (nodeFlag !== 'lts' && nodeFlag !== 'current') {
  console.error(`--node=${nodeFlag}: expected lts or current`);
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (nodeFlag === 'lts' && process.versions.node !== ltsVersion(root)) {
  const lts = await ensureLtsNode(root).catch((error: unknown) => {
    console.error(`${(error as Error).message}\nrunning on this Node (v${process.versions.node}) instead`);
    return undefined;
  });
  if (lts) {
    console.log(
      `running on Node ${lts.version}, the production image's (--node=current: v${process.versions.node})`,
    );
    const child = spawn(lts.node, [...process.execArgv, fileURLToPath(import.meta.url), ...args], {
      stdio: 'inherit',
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
    const code = await new Promise<number>((resolve) =>
      child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))),
    );
    process.exit(code);
  }
}

const benchmarks: Record<string, { title: string; run: () => Promise<Row[]>; extra?: ExtraColumn }> = {
  log: {
    title:
      'event log (PostgreSQL adapter; raw SQL and Emmett beside it; the EventStoreDB adapter on the stand-in)',
    run: () => benchLog({ events: numberFlag('log-events') ?? 4000 }),
    extra: { header: ESDB_COLUMN, footnote: ESDB_FOOTNOTE },
  },
  projections: {
    title: 'projections (rebuild from zero, page queries)',
    run: async () =>
      (
        await benchProjections({
          events: numberFlag('events') ?? 1_000_000,
          conversations: numberFlag('conversations') ?? 10_000,
          rounds: numberFlag('rounds') ?? 2,
        })
      ).rows,
  },
  telegram: {
    title: 'telegram (whole app: webhook → topic latency, webhook ingest)',
    run: () => benchTelegram(),
  },
  api: {
    title: 'api (whole app: POST throughput, list latency)',
    run: () => {
      const profileDir = textFlag('api-profile');
      return benchApi({
        messages: numberFlag('messages') ?? 1_000_000,
        ...(profileDir ? { profileDir } : {}),
      });
    },
  },
};

/** Not in the default run: `npm run bench -- migrate`, `npm run bench -- reports`. */
const separate: typeof benchmarks = {
  migrate: {
    title: 'log:migrate --to esdb (CLI, PostgreSQL log into the EventStoreDB stand-in)',
    run: () => benchMigrate({ events: numberFlag('migrate-events') ?? 100_000 }),
  },
  reports: {
    title: 'reports (rebuild of the reports projection, month queries)',
    run: () =>
      benchReports({
        events: numberFlag('events') ?? 1_000_000,
        conversations: numberFlag('conversations') ?? 10_000,
        rounds: numberFlag('rounds') ?? 2,
      }),
  },
};

const names = args.filter((a) => !a.startsWith('-'));
if (names.includes('growth')) {
  if (names.length > 1) {
    console.error('growth runs alone: npm run bench -- growth [--growth-sizes=…]');
    process.exit(2);
  }
  const profileDir = textFlag('growth-profile');
  await benchGrowth({
    sizes: listFlag('growth-sizes'),
    samples: numberFlag('growth-samples'),
    budgetS: numberFlag('growth-budget'),
    coldRounds: numberFlag('growth-cold-rounds'),
    cached: numberFlag('cached'),
    cachedMessages: numberFlag('cached-messages'),
    ...(profileDir ? { profileDir } : {}),
  });
  process.exit(0);
}
if (names.includes('scale')) {
  if (names.length > 1) {
    console.error('scale runs alone: npm run bench -- scale [--sizes=…]');
    process.exit(2);
  }
  await benchScale({
    sizes: listFlag('sizes'),
    perConversation: numberFlag('per-conversation'),
    rounds: numberFlag('rounds'),
  });
  process.exit(0);
}

const selected = names.length > 0 ? names : Object.keys(benchmarks);
Object.assign(benchmarks, Object.fromEntries(Object.entries(separate).filter(([n]) => names.includes(n))));
for (const name of selected) {
  if (!benchmarks[name]) {
    console.error(
      `unknown benchmark "${name}"; known: ${[...Object.keys(benchmarks), ...Object.keys(separate), 'scale', 'growth'].join(', ')}`,
    );
    process.exit(2);
  }
}

const started = performance.now();
const loadAtStart = loadavg()[0]!;
const summary: Array<readonly string[]> = [];
let failed = false;
for (const name of selected) {
  const bench = benchmarks[name]!;
  const t0 = performance.now();
  try {
    const rows = await bench.run();
    printTable(bench.title, rows, bench.extra);
    console.log(`\n(${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    for (const r of rows.filter((x) => x.summary))
      summary.push([
        `${name}: ${r.figure.trim()}`,
        r.topicdesk,
        r.reference,
        r.ratio,
        r.goal ?? '',
        r.met === undefined ? '' : r.met ? 'yes' : 'NO',
      ]);
  } catch (error) {
    failed = true;
    console.error(`\n${name} failed:`, error);
    summary.push([`${name}: FAILED (${error instanceof Error ? error.message : String(error)})`]);
  }
}

if (selected.length > 1) {
  console.log(
    `\n## all benchmarks, one run\n\n${machine()}; load average (1 min) ${loadAtStart.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end; ${((performance.now() - started) / 1000).toFixed(0)} s in all\n`,
  );
  printGrid(['figure', 'topicdesk', 'reference (same run)', 'ratio', 'goal', 'met?'], summary);
}
process.exit(failed ? 1 : 0);
