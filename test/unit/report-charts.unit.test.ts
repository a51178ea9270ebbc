// The report view's charts and durations (src/adapters/admin-page/report-charts.js): what an admin
// reads — durations in words, one bar per row, one point per day with a figure, gaps where a day has
// none, "no data" instead of an empty frame — and names that cannot break out of the SVG.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Script } from 'node:vm';
import { assemblePage, inlineModule, PAGE_MODULES } from '../../src/adapters/admin-page/audit-page.ts';
import {
  addDays,
  barChart,
  dayAxis,
  escapeXml,
  formatDuration,
  lineChart,
  niceStep,
  reportCells,
  shortDay,
} from '../../src/adapters/admin-page/report-charts.js';

const count = (svg: string, pattern: RegExp) => svg.match(new RegExp(pattern.source, 'g'))?.length ?? 0;
/** An attribute of every element whose tag starts with `start` (e.g. 'rect class="bar"'), in order. */
const attrs = (svg: string, start: string, attr: string) =>
  [...svg.matchAll(/<[^>]+>/g)]
    .map((m) => m[0])
    .filter((tag) => tag.startsWith(`<${start}`))
    .map((tag) => new RegExp(` ${attr}="([^"]*)"`).exec(tag)?.[1]);

describe('formatDuration', () => {
  it('says a duration as people do, in at most two units', () => {
    assert.equal(formatDuration(0), '0 s');
    assert.equal(formatDuration(0.2), '< 1 s');
    assert.equal(formatDuration(42.4), '42 s');
    assert.equal(formatDuration(59.6), '1 min');
    assert.equal(formatDuration(260), '4 min 20 s');
    assert.equal(formatDuration(600), '10 min');
    assert.equal(formatDuration(3900), '1 h 5 min');
    assert.equal(formatDuration(3600 + 5 * 60 + 40), '1 h 6 min', 'seconds rounded away past an hour');
    assert.equal(formatDuration(7200), '2 h');
    assert.equal(formatDuration(3 * 86400 + 4 * 3600 + 10), '3 d 4 h');
    assert.equal(formatDuration(86400), '1 d');
  });

  it('shows a dash when there is no figure', () => {
    assert.equal(formatDuration(null), '—');
    assert.equal(formatDuration(undefined), '—');
    assert.equal(formatDuration(Number.NaN), '—');
  });
});

describe('niceStep', () => {
  it('picks gridlines a person reads at a glance', () => {
    assert.equal(niceStep(7, 'count'), 2);
    assert.equal(niceStep(3, 'count'), 1);
    assert.equal(niceStep(130, 'count'), 50);
    assert.equal(niceStep(260, 'duration'), 120, '4 min 20 s: every 2 min');
    assert.equal(niceStep(3 * 3600, 'duration'), 3600);
    assert.equal(niceStep(50, 'duration'), 15);
  });
});

describe('barChart', () => {
  it('draws one bar per row, longest for the largest value, with the value written beside it', () => {
    const svg = barChart({
      title: 'Conversations per manager',
      bars: [
        { label: 'Alice', value: 4 },
        { label: 'Bob', value: 1 },
        { label: 'Carol', value: 2 },
      ],
    });
    assert.equal(count(svg, /<rect class="bar"/), 3);
    assert.deepEqual(attrs(svg, 'rect', 'data-label'), ['Alice', 'Bob', 'Carol']);
    const widths = attrs(svg, 'rect class="bar"', 'width').map(Number);
    assert.ok(widths[0]! > widths[2]! && widths[2]! > widths[1]!, `widths ${widths}`);
    assert.deepEqual(
      [...svg.matchAll(/<text class="value"[^>]*>([^<]*)</g)].map((m) => m[1]),
      ['4', '1', '2'],
    );
    assert.match(svg, /aria-label="Conversations per manager"/);
  });

  it('writes durations in words on the bars and the axis', () => {
    const svg = barChart({ title: 'Median', kind: 'duration', bars: [{ label: 'Alice', value: 260 }] });
    assert.match(svg, /<text class="value"[^>]*>4 min 20 s</);
    assert.match(svg, /<text class="tick"[^>]*>2 min</);
  });

  it('shows "No data in this period" for no rows or only zeros', () => {
    for (const bars of [[], [{ label: 'Alice', value: 0 }]]) {
      const svg = barChart({ title: 'Conversations per manager', bars });
      assert.match(svg, /class="chart no-data"/);
      assert.match(svg, />No data in this period</);
      assert.equal(count(svg, /class="bar"/), 0);
    }
  });

  it('escapes a name, so a manager called <script> stays text', () => {
    const svg = barChart({ title: 'T & "q"', bars: [{ label: '<script>alert(1)</script>"', value: 1 }] });
    assert.doesNotMatch(svg, /<script>/);
    assert.match(svg, /&lt;script&gt;alert\(1\)&lt;\/script&gt;&quot;/);
    assert.match(svg, /aria-label="T &amp; &quot;q&quot;"/);
  });

  it('shortens a long label on the chart and keeps it whole in the tooltip', () => {
    const label = 'A support manager with a very long name indeed';
    const svg = barChart({ title: 't', bars: [{ label, value: 3 }] });
    assert.match(svg, /<text class="label"[^>]*>A support manager with …</);
    assert.match(svg, new RegExp(`<title>${label}: 3</title>`));
  });
});

describe('lineChart', () => {
  const days = ['Dec 1', 'Dec 2', 'Dec 3', 'Dec 4'];

  it('puts a point for every day with a figure and leaves a gap where a day has none', () => {
    const svg = lineChart({
      title: 'First response by day',
      x: days,
      series: [
        { name: 'median', key: 'median', values: [60, null, 260, 30] },
        { name: 'p90', key: 'p90', values: [120, null, 900, 45] },
      ],
    });
    assert.equal(count(svg, /<circle class="point" data-series="median"/), 3);
    assert.equal(count(svg, /<circle class="point" data-series="p90"/), 3);
    assert.deepEqual(attrs(svg, 'circle class="point" data-series="median"', 'data-x'), [
      'Dec 1',
      'Dec 3',
      'Dec 4',
    ]);
    // The line is broken at the empty day: it moves (M) anew after the gap.
    const d = attrs(svg, 'path class="line" data-series="median"', 'd')[0]!;
    assert.equal(count(d, /M/), 2, d);
    assert.equal(count(d, /L/), 1, d);
    // A higher value sits higher on the chart (smaller y).
    const ys = attrs(svg, 'circle class="point" data-series="p90"', 'cy').map(Number);
    assert.ok(ys[1]! < ys[0]! && ys[0]! < ys[2]!, `ys ${ys}`);
    assert.match(svg, /<title>p90, Dec 3: 15 min<\/title>/);
    assert.deepEqual(
      [...svg.matchAll(/<g class="legend">.*?<text[^>]*>([^<]*)</g)].map((m) => m[1]),
      ['median', 'p90'],
    );
  });

  it('spreads at most about eight day labels, always showing the last day', () => {
    const x = Array.from({ length: 31 }, (_, i) => `d${i + 1}`);
    const svg = lineChart({
      title: 't',
      x,
      series: [{ name: 'median', key: 'median', values: x.map((_, i) => i * 10) }],
    });
    const labels = [...svg.matchAll(/<text class="xlabel"[^>]*>([^<]*)</g)].map((m) => m[1]);
    assert.ok(labels.length <= 9, `${labels.length} labels`);
    assert.equal(labels.at(-1), 'd31');
    assert.equal(count(svg, /<circle class="point"/), 31);
  });

  it('a single day is one point in the middle', () => {
    const svg = lineChart({
      title: 't',
      x: ['Dec 1'],
      series: [{ name: 'median', key: 'median', values: [5] }],
    });
    const [x1, x2] = [attrs(svg, 'line', 'x1')[0], attrs(svg, 'line', 'x2')[0]].map(Number);
    assert.deepEqual(attrs(svg, 'circle class="point"', 'cx'), [String((x1! + x2!) / 2)]);
  });

  it('shows "No data in this period" when no day has a figure', () => {
    const svg = lineChart({
      title: 'First response by day',
      x: days,
      series: [{ name: 'median', key: 'median', values: [null, null, null, null] }],
    });
    assert.match(svg, />No data in this period</);
    assert.equal(count(svg, /<circle/), 0);
    assert.match(lineChart({ title: 't', x: [], series: [] }), /class="chart no-data"/);
  });
});

describe('escapeXml', () => {
  it('escapes the five characters that matter in elements and attributes', () => {
    assert.equal(
      escapeXml(`<a href="x">Tom & Jerry's</a>`),
      '&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;',
    );
  });
});

describe('days', () => {
  it('adds calendar days across months and years, and gives "" for what is not a day', () => {
    assert.equal(addDays('2026-11-30', 1), '2026-12-01');
    assert.equal(addDays('2026-12-31', 1), '2027-01-01');
    assert.equal(addDays('2026-03-01', -1), '2026-02-28');
    assert.equal(addDays('', 1), '');
    assert.equal(addDays('2026-13-45', 1), '');
    assert.equal(shortDay('2026-12-01'), 'Dec 1');
    assert.equal(shortDay('(none)'), '(none)');
  });

  it('dayAxis: every day of the period, the empty ones without a row', () => {
    const row = (key: string) => ({ key, label: key });
    const axis = dayAxis('2026-11-29', '2026-12-02', [row('2026-11-30'), row('2026-12-02')]);
    assert.deepEqual(
      axis.map((d) => [d.label, d.row?.key ?? null]),
      [
        ['Nov 29', null],
        ['Nov 30', '2026-11-30'],
        ['Dec 1', null],
        ['Dec 2', '2026-12-02'],
      ],
    );
  });

  it('dayAxis: rows that are not days, or a period that is not one, are used as they come', () => {
    const rows = [{ key: 'alice', label: 'Alice' }];
    assert.deepEqual(dayAxis('2026-12-01', '2026-12-07', rows), [
      { key: 'alice', label: 'Alice', row: rows[0] },
    ]);
    const day = [{ key: '2026-12-01', label: '2026-12-01' }];
    assert.deepEqual(dayAxis('', '2026-12-07', day), [
      { key: '2026-12-01', label: '2026-12-01', row: day[0] },
    ]);
  });
});

describe('reportCells', () => {
  it("writes a row's figures in the table's column order, durations in words", () => {
    const stats = (median_s: number | null, p90_s: number | null, max_s: number | null) => ({
      count: median_s === null ? 0 : 2,
      median_s,
      p90_s,
      max_s,
    });
    assert.deepEqual(
      reportCells({
        conversations: 3,
        first_response: stats(260, 3900, 7200),
        response: stats(42, 61.4, 100),
        resolution: stats(86400 + 7200, null, null),
        reopened: 1,
        messages_in: 7,
        messages_out: 5,
        rating: { count: 2, average: 4.5 },
      }),
      ['3', '4 min 20 s', '1 h 5 min', '2 h', '42 s', '1 min 1 s', '1 d 2 h', '1', '7', '5', '4.5 (2)'],
    );
    const none = stats(null, null, null);
    assert.deepEqual(
      reportCells({
        conversations: 0,
        first_response: none,
        response: none,
        resolution: none,
        reopened: 0,
        messages_in: 0,
        messages_out: 0,
        rating: { count: 0, average: null },
      }),
      ['0', '—', '—', '—', '—', '—', '—', '0', '0', '0', '—'],
    );
  });
});

describe('the page carries the charts', () => {
  const read = (file: string) =>
    readFileSync(new URL(`../../src/adapters/admin-page/${file}`, import.meta.url), 'utf8');

  it('inlines report-charts.js and reports-view.js into the one script, whose members work in the page as in Node', () => {
    const page = assemblePage(read('audit.html'), Object.fromEntries(PAGE_MODULES.map((f) => [f, read(f)])));
    const scripts = [...page.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    assert.equal(scripts.length, 1, 'one inline script, allowed by its hash');
    assert.doesNotMatch(scripts[0]!, /@inline|^export /m);
    const charts = /const charts = (\(\(\) => \{[\s\S]*?\n\}\)\(\));/.exec(scripts[0]!)?.[1];
    assert.ok(charts, 'the charts object in the script');
    const inPage = new Script(charts).runInNewContext() as Record<string, (...a: unknown[]) => unknown>;
    assert.equal(inPage.formatDuration!(3900), '1 h 5 min');
    assert.equal(
      inPage.barChart!({ title: 't', bars: [{ label: 'A', value: 1 }] }),
      barChart({ title: 't', bars: [{ label: 'A', value: 1 }] }),
    );
    // The whole script compiles (a module inlined wrongly would not).
    assert.doesNotThrow(() => new Script(scripts[0]!));
    assert.throws(
      () => assemblePage('<script>const charts = null;</script>', { 'report-charts.js': '' }),
      /does not mark/,
    );
    assert.throws(() => inlineModule('export function f() {}'), /export const/);
    assert.throws(() => inlineModule("import x from 'y';"), /imports nothing/);
    assert.throws(
      () => assemblePage('<script>const x = /* @inline other.js */ null;</script>', {}),
      /does not have/,
    );
  });
});
