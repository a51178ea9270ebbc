// Shared bench plumbing: a durable embedded PostgreSQL (same settings as `npm start`), timing, and
// the one table format every benchmark prints: figure, topicdesk, reference, ratio.
import { randomBytes } from 'node:crypto';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/adapters/postgres/embedded.ts';

export interface BenchDatabase {
  readonly url: string;
  readonly pool: pg.Pool;
  stop(): Promise<void>;
}

export const startBenchDatabase = async (poolSize = 40): Promise<BenchDatabase> => {
  const external = process.env.DATABASE_URL;
  const server = external
    ? undefined
    : await startEmbeddedPostgres({
        dataDir: join(tmpdir(), `topicdesk-bench-${randomBytes(3).toString('hex')}`),
        throwaway: true,
      });
  const url = external ?? server!.url;
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  return {
    url,
    pool,
    async stop() {
      await pool.end();
      await server?.stop();
    },
  };
};

export interface Row {
  readonly figure: string;
  readonly topicdesk: string;
  readonly reference: string;
  readonly ratio: string;
  readonly goal?: string;
}

export const rate = (count: number, ms: number) => (count * 1000) / ms;
export const fmt = (n: number, unit = '') =>
  `${n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2)}${unit}`;
export const ratio = (a: number, b: number) => `${((a / b) * 100).toFixed(0)} %`;

export const timed = async <T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> => {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
};

export const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

export const machine = () =>
  `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;

export const printTable = (title: string, rows: readonly Row[]) => {
  const header: Row = {
    figure: 'figure',
    topicdesk: 'topicdesk',
    reference: 'reference (same run)',
    ratio: 'ratio',
    goal: 'goal',
  };
  const all = [header, ...rows];
  const width = (k: keyof Row) => Math.max(...all.map((r) => (r[k] ?? '').length));
  const line = (r: Row) =>
    `| ${(['figure', 'topicdesk', 'reference', 'ratio', 'goal'] as const).map((k) => (r[k] ?? '').padEnd(width(k))).join(' | ')} |`;
  console.log(`\n## ${title}\n\n${machine()}\n`);
  console.log(line(header));
  console.log(
    `|${(['figure', 'topicdesk', 'reference', 'ratio', 'goal'] as const).map((k) => '-'.repeat(width(k) + 2)).join('|')}|`,
  );
  for (const r of rows) console.log(line(r));
};
