// The Grafana dashboard in deploy/grafana asks Prometheus only for series the app exports, and shows
// every metric the app adds of its own, so renaming or adding a metric cannot leave it behind silently.
// The names come from the registry the app itself builds.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createMetrics } from '../../src/adapters/metrics/registry.ts';

const dashboardPath = join(import.meta.dirname, '../../deploy/grafana/topicdesk-dashboard.json');

interface Target {
  readonly expr?: string;
  readonly datasource?: { readonly uid?: string };
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly datasource?: { readonly uid?: string };
  readonly targets?: readonly Target[];
}
interface Dashboard {
  readonly schemaVersion: number;
  readonly __inputs: ReadonlyArray<{ readonly name: string; readonly pluginId: string }>;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: ReadonlyArray<{ readonly definition?: string }> };
}

// PromQL's own words in the expressions: functions, aggregations, keywords.
const PROMQL = new Set([
  ...['sum', 'min', 'max', 'avg', 'count', 'topk', 'bottomk', 'quantile', 'stddev', 'group'],
  ...['rate', 'irate', 'increase', 'delta', 'deriv', 'histogram_quantile', 'label_values'],
  ...['abs', 'clamp_min', 'clamp_max', 'time', 'vector', 'scalar', 'absent'],
  ...[
    'by',
    'without',
    'on',
    'ignoring',
    'group_left',
    'group_right',
    'and',
    'or',
    'unless',
    'offset',
    'bool',
  ],
]);

/** The metric (series) names an expression selects: what is left once labels, ranges and PromQL go. */
const seriesIn = (expr: string): string[] =>
  expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // label values
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // range selectors
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // grouping labels
    .replace(/,\s*(\w+)\s*\)/g, ')') // label_values(metric, label): the label
    .match(/[A-Za-z_:][\w:]*/g)
    ?.filter((word) => !PROMQL.has(word)) ?? [];

/** Every series the app's registry exposes (a histogram as its _bucket, _sum and _count). */
const exportedSeries = async () => {
  const metrics = await createMetrics().registry.getMetricsAsJSON();
  const series = new Set<string>();
  for (const m of metrics) {
    const type = String(m.type);
    const suffixes =
      type === 'histogram'
        ? ['_bucket', '_sum', '_count']
        : type === 'summary'
          ? ['', '_sum', '_count']
          : [''];
    for (const s of suffixes) series.add(`${m.name}${s}`);
  }
  return { series, names: metrics.map((m) => m.name) };
};

const load = async () => JSON.parse(await readFile(dashboardPath, 'utf8')) as Dashboard;

describe('grafana dashboard', () => {
  it('every expression and variable asks only for series the app exports', async () => {
    const dashboard = await load();
    const { series } = await exportedSeries();
    const queries = [
      ...dashboard.panels.flatMap((p) =>
        (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr ?? '' })),
      ),
      ...dashboard.templating.list.map((v) => ({ where: 'a variable', expr: v.definition ?? '' })),
    ];
    const unknown = queries.flatMap(({ where, expr }) =>
      seriesIn(expr)
        .filter((name) => !series.has(name))
        .map((name) => `${where}: ${name}`),
    );
    assert.deepEqual(unknown, []);
    assert.ok(
      queries.every((q) => seriesIn(q.expr).length > 0),
      'every query selects a metric',
    );
  });

  it('shows every metric topicdesk adds of its own (the process and Node.js defaults aside)', async () => {
    const dashboard = await load();
    const { names } = await exportedSeries();
    const used = new Set(
      dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => seriesIn(t.expr ?? ''))),
    );
    const own = names.filter((n) => !/^topicdesk_(process|nodejs)_/.test(n));
    const missing = own.filter((n) => ![n, `${n}_bucket`, `${n}_sum`, `${n}_count`].some((s) => used.has(s)));
    assert.deepEqual(missing, []);
    for (const name of [
      'topicdesk_events_appended_total',
      'topicdesk_projection_lag_events',
      'topicdesk_deliveries_total',
      'topicdesk_telegram_rate_limited_total',
      'topicdesk_webhook_deliveries_total',
      'topicdesk_http_request_duration_seconds',
    ]) {
      assert.ok(own.includes(name), `the app registers ${name}`);
    }
  });

  it('is importable: a Prometheus data source input used by every panel, unique panel ids', async () => {
    const dashboard = await load();
    assert.ok(dashboard.schemaVersion >= 36, 'a current dashboard schema');
    assert.deepEqual(
      dashboard.__inputs.map((i) => [i.name, i.pluginId]),
      [['DS_PROMETHEUS', 'prometheus']],
    );
    const queried = dashboard.panels.filter((p) => p.type !== 'row');
    assert.ok(queried.length > 0);
    for (const p of queried) {
      assert.equal(p.datasource?.uid, `\${DS_PROMETHEUS}`, `${p.title}: the imported data source`);
      assert.ok((p.targets ?? []).length > 0, `${p.title}: has a query`);
    }
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  });
});
