// `npm run bench -- scale [--sizes=100000,1000000,5000000] [--per-conversation=100] [--rounds=2]`:
// cost as work grows. The projections benchmark (bench/projections.ts: load, both rebuilds from zero,
// keyset page queries) at each size, each size in a fresh process on a fresh database, then one table
// comparing the sizes: time, events/s, peak memory and page p95, and the growth from one size to the
// next beside the growth of the size itself. A rebuild that stays linear takes ×10 the time for ×10
// the events; a keyset page stays flat (×1) whatever the size.
//
// Conversations grow with the events (one per `per-conversation` events), so a conversation looks the
// same at every size and only the log and the tables grow.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ScaleChildInput, ScaleChildOutput } from './scale-child.ts';
import { fmt, machine, mib, printGrid } from './support.ts';

export interface ScaleOptions {
  readonly sizes?: readonly number[];
  /** Events per conversation (default 100, as the projections benchmark's 1 M / 10 000). */
  readonly perConversation?: number;
  /** Rounds of each size's rebuilds, best kept (default 2). */
  readonly rounds?: number;
}

const progress = (line: string) => process.stderr.write(`[scale] ${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** 100 000 → "100 k", 5 000 000 → "5 M". */
export const sizeLabel = (n: number) =>
  n >= 1_000_000 && n % 100_000 === 0
    ? `${n / 1_000_000} M`
    : n >= 1000 && n % 100 === 0
      ? `${n / 1000} k`
      : n.toLocaleString('en-US');

const runSize = (input: ScaleChildInput): Promise<ScaleChildOutput> =>
  new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./scale-child.ts', import.meta.url)), [JSON.stringify(input)], {
      execArgv: process.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let output: ScaleChildOutput | undefined;
    child.on('message', (m) => {
      output = m as ScaleChildOutput;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (output) resolve(output);
      else
        reject(
          new Error(`the run at ${input.events} events ended (${signal ?? `exit ${code}`}) without figures`),
        );
    });
  });

type Kind = 'time' | 'rate' | 'flat' | 'info';

interface Line {
  readonly figure: string;
  readonly kind: Kind;
  readonly value: (o: ScaleChildOutput) => number;
  readonly show: (v: number) => string;
}

/**
 * Whether the growth is what it should be: time near linear (growth ≤ 1.25 × the size's growth at
 * every step), a rate steady (≥ 0.8× at every step), a page latency or a memory peak flat (≤ 1.5×).
 */
const verdict = (kind: Kind, growths: readonly number[], sizeGrowths: readonly number[]) => {
  if (kind === 'info' || growths.length === 0 || growths.some((g) => !Number.isFinite(g))) return '';
  if (kind === 'time') {
    const worst = Math.max(...growths.map((g, k) => g / sizeGrowths[k]!));
    return worst <= 1.25 ? 'near linear' : `super-linear (up to ${worst.toFixed(2)}× linear)`;
  }
  if (kind === 'rate') {
    const worst = Math.min(...growths);
    return worst >= 0.8 ? 'steady' : `falls (to ${worst.toFixed(2)}×)`;
  }
  const worst = Math.max(...growths);
  return worst <= 1.5 ? 'flat' : `grows (up to ×${worst.toFixed(2)})`;
};

export const benchScale = async (options: ScaleOptions = {}): Promise<void> => {
  const sizes = [...(options.sizes ?? [100_000, 1_000_000, 5_000_000])].sort((a, b) => a - b);
  const perConversation = options.perConversation ?? 100;
  const rounds = options.rounds ?? 2;
  const outputs: ScaleChildOutput[] = [];
  for (const events of sizes) {
    const conversations = Math.max(1, Math.round(events / perConversation));
    progress(`${sizeLabel(events)} events, ${conversations.toLocaleString('en-US')} conversations`);
    outputs.push(await runSize({ events, conversations, rounds }));
  }

  const pageFigures = outputs[0]!.metrics.pages.map((p) => p.figure);
  const lines: Line[] = [
    {
      figure: 'load: append, 100/call × 8 appenders (time)',
      kind: 'time',
      value: (o) => o.metrics.load.ms,
      show: seconds,
    },
    { figure: 'load: append (events/s)', kind: 'rate', value: (o) => o.metrics.load.rate, show: fmt },
    {
      figure: 'reference: COPY of the same events (events/s)',
      kind: 'rate',
      value: (o) => o.metrics.copyRate,
      show: fmt,
    },
    {
      figure: `rebuild \`messages\` from zero (time, best of ${rounds})`,
      kind: 'time',
      value: (o) => o.metrics.rebuild.messages.ms,
      show: seconds,
    },
    {
      figure: 'rebuild `messages` (events/s)',
      kind: 'rate',
      value: (o) => o.metrics.rebuild.messages.rate,
      show: fmt,
    },
    {
      figure: `rebuild \`conversations\` from zero (time, best of ${rounds})`,
      kind: 'time',
      value: (o) => o.metrics.rebuild.conversations.ms,
      show: seconds,
    },
    {
      figure: 'rebuild `conversations` (events/s)',
      kind: 'rate',
      value: (o) => o.metrics.rebuild.conversations.rate,
      show: fmt,
    },
    {
      figure: 'peak RSS growth during the `messages` rebuild',
      kind: 'flat',
      value: (o) => o.metrics.rebuild.messages.rssGrowth,
      show: mib,
    },
    {
      figure: '  V8 heap in use, peak growth',
      kind: 'flat',
      value: (o) => o.metrics.rebuild.messages.heapGrowth,
      show: mib,
    },
    {
      figure: 'peak RSS growth during the `conversations` rebuild',
      kind: 'flat',
      value: (o) => o.metrics.rebuild.conversations.rssGrowth,
      show: mib,
    },
    {
      figure: 'peak RSS of the bench process, whole run (load, COPY, rebuilds, pages)',
      kind: 'flat',
      value: (o) => o.maxRss,
      show: mib,
    },
    ...pageFigures.map(
      (figure, k): Line => ({
        // Without the parenthesis: the sources' shares differ between small sizes.
        figure: `${figure.replace(/ \(.*\)$/, '')}: p95 (ms)`,
        kind: 'flat',
        value: (o) => o.metrics.pages[k]?.view.p95 ?? Number.NaN,
        show: (v) => v.toFixed(2),
      }),
    ),
    {
      figure: 'round trip: SELECT 1, p95 (ms)',
      kind: 'flat',
      value: (o) => o.metrics.roundTrip.p95,
      show: (v) => v.toFixed(2),
    },
    { figure: 'the size’s whole run (wall time)', kind: 'info', value: (o) => o.ms, show: seconds },
  ];
  const steps = sizes.slice(1).map((size, k) => ({ from: k, to: k + 1, sizeGrowth: size / sizes[k]! }));
  const header = [
    'figure',
    ...sizes.map(
      (s, k) => `${sizeLabel(s)} (${outputs[k]!.metrics.conversations.toLocaleString('en-US')} conv.)`,
    ),
    ...steps.map(
      (s) => `${sizeLabel(sizes[s.to]!)} / ${sizeLabel(sizes[s.from]!)} (size ×${s.sizeGrowth.toFixed(1)})`,
    ),
    'growth',
  ];
  const rows = lines.map((line) => {
    const values = outputs.map(line.value);
    const growths = steps.map((s) => values[s.to]! / values[s.from]!);
    return [
      line.figure,
      ...values.map((v) => (Number.isFinite(v) ? line.show(v) : '')),
      ...growths.map((g) => (Number.isFinite(g) ? `×${g.toFixed(2)}` : '')),
      verdict(
        line.kind,
        growths,
        steps.map((s) => s.sizeGrowth),
      ),
    ];
  });
  console.log(`\n## scale: projections rebuild and keyset pages as the log grows\n\n${machine()}\n`);
  printGrid(header, rows);
  console.log(
    '\ngrowth: time "near linear" when it grows at most 1.25× as fast as the size at every step; a rate "steady" when it keeps ≥ 0.8× of the smaller size; a page p95 or a memory peak "flat" when it grows at most ×1.5.',
  );
};
