// @ts-check
// The report view's charts and durations as text: pure functions, no DOM and no dependency, so the
// unit tests run them in Node and the admin page inlines this file into its one script (exports
// dropped) — docs/design.md, "The report view".

const WIDTH = 640;
const COLORS = { bar: '#2f6feb', median: '#2f6feb', p90: '#d4731a', axis: '#9aa4af', grid: '#e7ebef' };

/** Text made safe inside SVG/HTML elements and attributes (labels are names people chose). */
export const escapeXml = (/** @type {unknown} */ text) =>
  String(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/**
 * A duration as people say it: "42 s", "4 min 20 s", "1 h 5 min", "2 d 3 h"; "—" when there is none.
 * @param {number | null | undefined} seconds
 */
export const formatDuration = (seconds) => {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds > 0 && seconds < 0.5) return '< 1 s';
  const s = Math.round(Math.max(0, seconds));
  /** @type {(big: number, bigUnit: string, small: number, smallUnit: string) => string} */
  const two = (big, bigUnit, small, smallUnit) =>
    small === 0 ? `${big} ${bigUnit}` : `${big} ${bigUnit} ${small} ${smallUnit}`;
  if (s < 60) return `${s} s`;
  if (s < 3600) return two(Math.floor(s / 60), 'min', s % 60, 's');
  // Hours and days drop the seconds: nobody reads "1 h 5 min 12 s" in a report.
  const minutes = Math.round(s / 60);
  if (minutes < 24 * 60) return two(Math.floor(minutes / 60), 'h', minutes % 60, 'min');
  const hours = Math.round(s / 3600);
  return two(Math.floor(hours / 24), 'd', hours % 24, 'h');
};

/** Gridline steps for durations (seconds), so the axis reads 30 s, 1 min, 15 min, 1 h, … */
const DURATION_STEPS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800,
];

/**
 * A step that splits [0, max] into at most `ticks` parts: a duration step, or 1/2/5 × 10^k for counts.
 * @param {number} max @param {'duration' | 'count'} kind @param {number} [ticks]
 */
export const niceStep = (max, kind, ticks = 4) => {
  const rough = max / ticks;
  if (kind === 'duration')
    return DURATION_STEPS.find((s) => s >= rough) ?? Math.ceil(rough / 604800) * 604800;
  const power = 10 ** Math.floor(Math.log10(Math.max(rough, 1)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  return Math.max(1, step);
};

/** @param {string} text @param {number} max */
const clip = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
/** @param {number} n */
const r = (n) => Math.round(n * 10) / 10;

/**
 * What a chart shows when the period has nothing to draw: one sentence, in the chart's place.
 * @param {string} title @param {number} [height]
 */
export const noDataChart = (title, height = 120) =>
  `<svg class="chart no-data" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="${escapeXml(title)}: no data">` +
  `<rect x="0.5" y="0.5" width="${WIDTH - 1}" height="${height - 1}" rx="6" fill="#fafbfc" stroke="${COLORS.grid}"/>` +
  `<text x="${WIDTH / 2}" y="${height / 2 + 5}" text-anchor="middle" fill="#6a7480" font-size="14">No data in this period</text></svg>`;

/**
 * @typedef {{ label: string, value: number }} Bar
 * @typedef {{ title: string, bars: Bar[], kind?: 'duration' | 'count' }} BarChart
 */

/**
 * Horizontal bars, one row per label (names can be long), the value written after each bar.
 * No bar, or only zeros: the no-data chart.
 * @param {BarChart} chart
 */
export const barChart = ({ title, bars, kind = 'count' }) => {
  const max = Math.max(0, ...bars.map((b) => b.value));
  if (bars.length === 0 || max <= 0) return noDataChart(title);
  const format = kind === 'duration' ? formatDuration : (/** @type {number} */ n) => String(n);
  const left = 170;
  const right = WIDTH - 90;
  const row = 26;
  const top = 8;
  const height = top + bars.length * row + 24;
  const step = niceStep(max, kind);
  const scaleMax = Math.ceil(max / step) * step;
  const x = (/** @type {number} */ v) => left + ((right - left) * v) / scaleMax;
  const grid = [];
  for (let v = 0; v <= scaleMax; v += step) {
    grid.push(
      `<line x1="${r(x(v))}" x2="${r(x(v))}" y1="${top}" y2="${height - 20}" stroke="${v === 0 ? COLORS.axis : COLORS.grid}"/>` +
        `<text class="tick" x="${r(x(v))}" y="${height - 6}" text-anchor="middle">${escapeXml(format(v))}</text>`,
    );
  }
  const rows = bars.map((b, i) => {
    const y = top + i * row;
    const w = Math.max(b.value > 0 ? 2 : 0, x(b.value) - left);
    const tip = `${b.label}: ${format(b.value)}`;
    return (
      `<g class="row"><title>${escapeXml(tip)}</title>` +
      `<text class="label" x="${left - 8}" y="${y + row / 2 + 4}" text-anchor="end">${escapeXml(clip(b.label, 24))}</text>` +
      `<rect class="bar" data-label="${escapeXml(b.label)}" data-value="${b.value}" x="${left}" y="${y + 4}" width="${r(w)}" height="${row - 8}" rx="3" fill="${COLORS.bar}"/>` +
      `<text class="value" x="${r(left + w + 6)}" y="${y + row / 2 + 4}">${escapeXml(format(b.value))}</text></g>`
    );
  });
  return (
    `<svg class="chart bars" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="${escapeXml(title)}" font-size="12" fill="#1d232b">` +
    `${grid.join('')}${rows.join('')}</svg>`
  );
};

/**
 * @typedef {{ name: string, key: string, values: (number | null)[] }} Series
 * @typedef {{ title: string, x: string[], series: Series[], kind?: 'duration' | 'count' }} LineChart
 */

/**
 * Lines over the x labels (days), one per series, a point for every value; a null leaves a gap
 * (a day without an answer has no median). Every value null: the no-data chart.
 * @param {LineChart} chart
 */
export const lineChart = ({ title, x, series, kind = 'duration' }) => {
  const values = series.flatMap((s) => s.values.filter((v) => v !== null && Number.isFinite(v)));
  if (x.length === 0 || values.length === 0) return noDataChart(title, 220);
  const format = kind === 'duration' ? formatDuration : (/** @type {number} */ n) => String(n);
  const height = 240;
  const left = 78;
  const right = WIDTH - 16;
  const top = 30;
  const bottom = height - 30;
  const max = Math.max(...values.map(Number), 1);
  const step = niceStep(max, kind);
  const scaleMax = Math.ceil(max / step) * step;
  // One label alone sits in the middle; several spread evenly from the first to the last.
  const px = (/** @type {number} */ i) =>
    x.length === 1 ? (left + right) / 2 : left + ((right - left) * i) / (x.length - 1);
  const py = (/** @type {number} */ v) => bottom - ((bottom - top) * v) / scaleMax;
  const parts = [];
  for (let v = 0; v <= scaleMax; v += step) {
    parts.push(
      `<line x1="${left}" x2="${right}" y1="${r(py(v))}" y2="${r(py(v))}" stroke="${v === 0 ? COLORS.axis : COLORS.grid}"/>` +
        `<text class="tick" x="${left - 6}" y="${r(py(v) + 4)}" text-anchor="end">${escapeXml(format(v))}</text>`,
    );
  }
  // At most about eight x labels, the last one always shown.
  const every = Math.ceil(x.length / 8);
  x.forEach((label, i) => {
    if (i % every === 0 || i === x.length - 1)
      parts.push(
        `<text class="xlabel" x="${r(px(i))}" y="${bottom + 18}" text-anchor="middle">${escapeXml(label)}</text>`,
      );
  });
  series.forEach((s, n) => {
    const color =
      /** @type {Record<string, string>} */ (COLORS)[s.key] ?? (n === 0 ? COLORS.median : COLORS.p90);
    let path = '';
    let pen = false;
    /** @type {string[]} */
    const points = [];
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) {
        pen = false;
        return;
      }
      path += `${pen ? 'L' : 'M'}${r(px(i))} ${r(py(v))}`;
      pen = true;
      points.push(
        `<circle class="point" data-series="${escapeXml(s.key)}" data-x="${escapeXml(x[i])}" data-value="${v}" cx="${r(px(i))}" cy="${r(py(v))}" r="3.5" fill="${color}">` +
          `<title>${escapeXml(`${s.name}, ${x[i]}: ${format(v)}`)}</title></circle>`,
      );
    });
    parts.push(
      `<path class="line" data-series="${escapeXml(s.key)}" d="${path}" fill="none" stroke="${color}" stroke-width="2"/>`,
    );
    parts.push(...points);
    // The legend, top left, one entry per series.
    const lx = left + n * 120;
    parts.push(
      `<g class="legend"><rect x="${lx}" y="8" width="12" height="12" rx="2" fill="${color}"/>` +
        `<text x="${lx + 18}" y="18">${escapeXml(s.name)}</text></g>`,
    );
  });
  return (
    `<svg class="chart lines" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="${escapeXml(title)}" font-size="12" fill="#1d232b">` +
    `${parts.join('')}</svg>`
  );
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The day `n` days after a `YYYY-MM-DD` day (calendar arithmetic, no time zone); '' for a non-day,
 * so a cleared date field reaches the API as it is and the API says what is wrong.
 * @param {string} day @param {number} n
 */
export const addDays = (day, n) => {
  if (!DAY.test(day)) return '';
  const t = new Date(`${day}T00:00:00Z`);
  t.setUTCDate(t.getUTCDate() + n);
  return Number.isNaN(t.getTime()) ? '' : t.toISOString().slice(0, 10);
};

/** "2026-12-01" → "Dec 1". @param {string} day */
export const shortDay = (day) =>
  DAY.test(day) ? `${MONTHS[Number(day.slice(5, 7)) - 1]} ${Number(day.slice(8, 10))}` : day;

/**
 * @template {{ key: string, label: string }} Row
 * @typedef {{ key: string, label: string, row: Row | null }} DayPoint
 */

/**
 * The x axis of a by-day chart: every day from `from` to `to` (both `YYYY-MM-DD`, inclusive, at most
 * a year), with the report's row for the days that have one and null for the empty days, so a quiet
 * day shows as a gap instead of disappearing. Rows keyed otherwise are used as they come.
 * @template {{ key: string, label: string }} Row
 * @param {string} from @param {string} to @param {Row[]} rows
 * @returns {DayPoint<Row>[]}
 */
export const dayAxis = (from, to, rows) => {
  if (!DAY.test(from) || !DAY.test(to) || !rows.every((row) => DAY.test(row.key)))
    return rows.map((row) => ({ key: row.key, label: row.label, row }));
  const byKey = new Map(rows.map((row) => [row.key, row]));
  const keys = new Set(byKey.keys());
  for (let day = from, n = 0; day !== '' && day <= to && n < 366; day = addDays(day, 1), n++) keys.add(day);
  return [...keys].sort().map((key) => ({ key, label: shortDay(key), row: byKey.get(key) ?? null }));
};

/**
 * @typedef {{ count: number, median_s: number | null, p90_s: number | null, max_s: number | null }} DurationStats
 * @typedef {{ conversations: number, first_response: DurationStats, response: DurationStats,
 *   resolution: DurationStats, reopened: number, messages_in: number, messages_out: number,
 *   rating: { count: number, average: number | null } }} ReportFigures
 */

/**
 * A report row's cells in the table's column order: conversations, first response median / p90 / max,
 * response median / p90, resolution median, reopened, messages in / out, rating ("4.5 (2)").
 * @param {ReportFigures} f
 */
export const reportCells = (f) => [
  String(f.conversations),
  formatDuration(f.first_response.median_s),
  formatDuration(f.first_response.p90_s),
  formatDuration(f.first_response.max_s),
  formatDuration(f.response.median_s),
  formatDuration(f.response.p90_s),
  formatDuration(f.resolution.median_s),
  String(f.reopened),
  String(f.messages_in),
  String(f.messages_out),
  f.rating.count > 0 && f.rating.average !== null
    ? `${f.rating.average.toFixed(1)} (${f.rating.count})`
    : '—',
];
