// @ts-check
// The admin page's Reports tab: the admin API's report figures as cards, a table and two charts.
// It reaches the page only through the helpers it is given, and the server inlines it into the
// page's one script beside report-charts.js (docs/design.md, "The report view").

/**
 * What the view needs from the page: its element lookup and builder, the token-carrying GET, the
 * error line, and the charts module.
 * @typedef {{
 *   $: (id: string) => any,
 *   el: (tag: string, attrs?: Record<string, string>, ...children: unknown[]) => any,
 *   api: (path: string) => Promise<any>,
 *   showError: (error: unknown) => void,
 *   hasToken: () => boolean,
 *   charts: typeof import('./report-charts.js'),
 * }} ReportsContext
 */

/** @param {ReportsContext} ctx */
export const reportsView = ({ $, el, api, showError, hasToken, charts }) => {
  let seq = 0;
  const dur = charts.formatDuration;

  /** @param {string} label @param {string} value @param {string} [cls] */
  const card = (label, value, cls = '') =>
    el(
      'div',
      { class: `card ${cls}` },
      el('div', { class: 'meta' }, label),
      el('div', { class: 'value' }, value),
    );
  /** @param {string} label @param {import('./report-charts.js').ReportFigures} figures @param {string} [key] */
  const figureRow = (label, figures, key) =>
    el(
      'tr',
      key === undefined ? {} : { 'data-key': key },
      el('td', {}, label),
      ...charts.reportCells(figures).map((c) => el('td', {}, c)),
    );

  /** @param {{ from: string, to: string, report: any, byDay: any, byManager: any, waiting: any }} r */
  const render = ({ from, to, report, byDay, byManager, waiting }) => {
    $('report-waiting').replaceChildren(
      card('Waiting now', String(waiting.waiting), 'waiting'),
      card('Unassigned waiting', String(waiting.unassigned), 'waiting'),
      card(
        'Oldest waiting',
        waiting.oldest_waiting_s === null ? 'nobody waits' : dur(waiting.oldest_waiting_s),
        'waiting',
      ),
    );
    const t = report.total;
    $('report-title').textContent = `${from} – ${to}`;
    $('report-note').textContent = report.business_hours
      ? 'Durations count working hours only.'
      : 'Durations are wall-clock time.';
    $('report-summary').replaceChildren(
      card('Conversations', String(t.conversations)),
      card('First response, median', dur(t.first_response.median_s)),
      card('First response, p90', dur(t.first_response.p90_s)),
      card('Resolution, median', dur(t.resolution.median_s)),
      card('Messages in / out', `${t.messages_in} / ${t.messages_out}`),
    );
    $('table-title').textContent = `By ${report.group_by}`;
    $('group-heading').textContent = report.group_by;
    $('report-table').tBodies[0].replaceChildren(
      ...(report.rows.length
        ? report.rows.map((/** @type {any} */ row) => figureRow(row.label, row, row.key))
        : [el('tr', {}, el('td', { colspan: '12', class: 'no-data' }, 'No data in this period.'))]),
    );
    $('report-table').tFoot.replaceChildren(figureRow('Total', t));
    // SVG text from report-charts.js, every name in it escaped there.
    const days = charts.dayAxis(from, to, /** @type {any[]} */ (byDay.rows));
    $('chart-first-response').innerHTML = charts.lineChart({
      title: 'First response by day: median and p90',
      x: days.map((d) => d.label),
      series: [
        { name: 'median', key: 'median', values: days.map((d) => d.row?.first_response.median_s ?? null) },
        { name: 'p90', key: 'p90', values: days.map((d) => d.row?.first_response.p90_s ?? null) },
      ],
    });
    /** @type {any[]} */
    const managers = byManager.rows;
    $('chart-managers').innerHTML = charts.barChart({
      title: 'Conversations each manager answered',
      // The "(none)" row (key '') holds what no manager did: no manager's bar.
      bars: managers
        .filter((r) => r.key !== '' && r.conversations > 0)
        .sort((a, b) => b.conversations - a.conversations)
        .map((r) => ({ label: r.label, value: r.conversations })),
    });
    $('report-body').hidden = false;
  };

  // The chosen grouping for the table, by day and by manager for the charts, and who waits now.
  const load = async () => {
    const from = $('report-from').value;
    const to = $('report-to').value;
    const group = $('report-group').value;
    const mine = ++seq;
    const query = (/** @type {string} */ groupBy) =>
      api(
        `/api/admin/reports/response-times?${new URLSearchParams({ from, to: charts.addDays(to, 1), group_by: groupBy })}`,
      );
    try {
      const [report, byDay, byManager, waiting] = await Promise.all([
        query(group),
        group === 'day' ? null : query('day'),
        group === 'manager' ? null : query('manager'),
        api('/api/admin/reports/waiting'),
      ]);
      if (mine !== seq) return; // a newer request is on its way
      render({ from, to, report, byDay: byDay || report, byManager: byManager || report, waiting });
      showError(null);
    } catch (error) {
      if (mine !== seq) return;
      $('report-body').hidden = true;
      $('report-waiting').replaceChildren();
      showError(error);
    }
  };

  /** @param {'audit' | 'reports'} name */
  const showTab = (name) => {
    const reports = name === 'reports';
    $('audit').hidden = reports;
    $('reports').hidden = !reports;
    $('tab-audit').setAttribute('aria-selected', String(!reports));
    $('tab-reports').setAttribute('aria-selected', String(reports));
    if (reports && hasToken()) load();
  };

  // The default period: this browser's today and the six days before it.
  const now = new Date();
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  $('report-to').value = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  $('report-from').value = charts.addDays($('report-to').value, -6);
  $('report-form').addEventListener('submit', (/** @type {any} */ e) => {
    e.preventDefault();
    load();
  });
  $('tab-audit').addEventListener('click', () => showTab('audit'));
  $('tab-reports').addEventListener('click', () => showTab('reports'));
  return {
    /** After the token changed: the report again, when its tab is the one shown. */
    refresh: () => {
      if (!$('reports').hidden) load();
    },
  };
};
