// The whole app for the HTTP benchmarks (api, telegram), and the load generator: autocannon, driven
// through its programmatic API in this same process (it shares the event loop with the app, as the
// hand-written loops it replaced did; on two cores a separate process would compete for the same CPU).
import autocannon from 'autocannon';
import { createLogger } from '../src/adapters/logging/logger.ts';
import { type App, startApp } from '../src/app/app.ts';
import { loadConfig } from '../src/app/config.ts';
import type { BenchDatabase } from './support.ts';

/** startApp as `npm start` runs it, on the bench database, listening on a free port, silent. */
export const startBenchApp = (db: BenchDatabase, env: Record<string, string> = {}): Promise<App> =>
  startApp(
    loadConfig({ DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', ...env }),
    createLogger({ level: 'silent' }),
  );

export interface LoadRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export interface LoadResult {
  /** From the first request sent to the last answer (ms). */
  readonly ms: number;
  /** Answers by status code. */
  readonly statuses: ReadonlyMap<number, number>;
  /** Every answer's latency as autocannon timed it (ms, sorted): its own histogram keeps whole ms only. */
  readonly latencies: readonly number[];
  /** Connection errors and timeouts. */
  readonly errors: number;
}

/**
 * `amount` requests over `connections` keep-alive connections, one request in flight on each (no
 * pipelining), so `connections` is the number in flight. `request(i)` makes the i-th request sent
 * (0, 1, 2, … in the order autocannon sends them): autocannon builds each request just before it
 * sends it, so every index is sent exactly once.
 */
export const httpLoad = async (
  baseUrl: string,
  options: { connections: number; amount: number; request: (i: number) => LoadRequest; timeoutS?: number },
): Promise<LoadResult> => {
  let next = 0;
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const t0 = performance.now();
  let last = t0;
  const instance = autocannon(
    {
      url: baseUrl,
      connections: options.connections,
      amount: options.amount,
      pipelining: 1,
      timeout: options.timeoutS ?? 60,
      requests: [
        {
          setupRequest: (defaults) => {
            const r = options.request(next++);
            return {
              ...defaults,
              method: r.method,
              path: r.path,
              headers: { ...defaults.headers, ...r.headers },
              ...(r.body === undefined ? {} : { body: r.body }),
            };
          },
        },
      ],
    },
    () => {},
  );
  instance.on('response', (_client, status, _bytes, ms) => {
    last = performance.now();
    latencies.push(ms);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  });
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    instance.on('done', resolve);
    instance.on('error', reject);
  });
  return {
    ms: last - t0,
    statuses,
    latencies: latencies.sort((a, b) => a - b),
    errors: result.errors,
  };
};

/** ` (3×202, 1×500)`: the answers other than `expected`, or nothing. */
export const otherStatuses = (statuses: ReadonlyMap<number, number>, expected: number) => {
  const others = [...statuses].filter(([s]) => s !== expected).map(([s, n]) => `${n}×${s}`);
  return others.length > 0 ? ` (${others.join(', ')})` : '';
};

/** otherStatuses, and the connection errors and timeouts if there were any. */
export const unexpected = (result: LoadResult, expected: number) =>
  otherStatuses(result.statuses, expected) + (result.errors > 0 ? ` (${result.errors} errors)` : '');
