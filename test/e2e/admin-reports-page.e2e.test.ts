// The report view of the /admin page in a real browser (Debian's Chromium through playwright-core).
// Clients write through the Telegram stand-in, two managers answer in the topics and /close, one
// client is still waiting; the admin opens Reports and reads the same figures the reports API gives,
// one bar per manager who answered, one point per day with a first response, "no data" for a quiet
// period and the API's own words for a wrong one. A screenshot is saved to .artifacts/.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { formatDuration, reportCells } from '../../src/adapters/admin-page/report-charts.js';
import type { ResponseReport, WaitingNow } from '../../src/projections/read-models/reports-query.ts';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';
import { chromiumPath, launchChromium, NO_CHROMIUM } from '../support/chromium.ts';

const ADMIN_TOKEN = 'admin-token-for-the-reports-page-0123';
const screenshotPath = join(import.meta.dirname, '../../.artifacts/admin-reports.png');

const command = (text: string) => ({
  text,
  entities: [{ type: 'bot_command' as const, offset: 0, length: text.length }],
});
type Client = ReturnType<Harness['tg']['addUser']>;
type Manager = ReturnType<Harness['tg']['addManager']>;
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

describe('report view of the admin page (headless Chromium)', {
  skip: chromiumPath ? false : NO_CHROMIUM,
}, () => {
  let h: Harness;
  let browser: Browser;
  // The page asks for dates, inclusive; the API's `to` is exclusive (no schedule: days are UTC's).
  const from = day(-6);
  const to = day(0);
  const report = async (groupBy: string, period = { from, to: day(1) }) => {
    const res = await fetch(
      `${h.url}/api/admin/reports/response-times?from=${period.from}&to=${period.to}&group_by=${groupBy}`,
      { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } },
    );
    assert.equal(res.status, 200);
    return (await res.json()) as ResponseReport;
  };
  const waiting = async () =>
    (await (
      await fetch(`${h.url}/api/admin/reports/waiting`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      })
    ).json()) as WaitingNow;

  before(async () => {
    h = await startHarness({ ADMIN_TOKEN });
    const alice = h.tg.addManager({ first_name: 'Alice', last_name: 'Support' });
    const bob = h.tg.addManager({ first_name: 'Bob', last_name: 'Helper' });
    const ask = async (user: Client, text: string) => {
      const question = h.tg.privateMessage(user, { text });
      await h.send(question);
      await h.topicCopyOf(user.id, question.message!.message_id);
      return h.topicOf(user.id);
    };
    const answer = async (user: Client, manager: Manager, text: string) => {
      const reply = h.tg.groupMessage(manager, await h.topicOf(user.id), { text });
      await h.send(reply);
      await h.clientCopyOf(user.id, reply.message!.message_id);
    };
    const close = async (user: Client, manager: Manager) => {
      await h.send(h.tg.groupMessage(manager, await h.topicOf(user.id), command('/close')));
      await waitFor('the conversation closed', async () =>
        (await h.events({ type: 'ConversationClosed', conversationId: h.conversationOf(user.id) })).length > 0
          ? true
          : undefined,
      );
    };
    // Ada waits about two seconds for Alice, asks again, is answered and closed.
    const ada = h.tg.addUser({ first_name: 'Ada' });
    await ask(ada, 'Where is my order?');
    await new Promise((r) => setTimeout(r, 2_100));
    await answer(ada, alice, 'It ships today');
    await ask(ada, 'And the invoice?');
    await answer(ada, alice, 'Attached to the parcel');
    await close(ada, alice);
    // Ben is answered by Bob, closed, writes again (reopened) and is answered again.
    const ben = h.tg.addUser({ first_name: 'Ben' });
    await ask(ben, 'Can I change the address?');
    await answer(ben, bob, 'Yes, send it here');
    await close(ben, bob);
    await ask(ben, 'Baker Street 221b');
    await answer(ben, bob, 'Changed');
    // Cleo asks and nobody has answered yet.
    await ask(h.tg.addUser({ first_name: 'Cleo' }), 'Hello?');
    await waitFor('the history in the reports', async () => {
      const { total } = await report('manager');
      const now = await waiting();
      return total.messages_in === 5 && total.messages_out === 4 && total.reopened === 1 && now.waiting === 1
        ? true
        : undefined;
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await h?.stop();
  });

  const openReports = async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 400/.test(m.text())) problems.push(m.text());
    });
    await page.goto(`${h.url}/admin`);
    await page.fill('#token', ADMIN_TOKEN);
    await page.click('#login button');
    await page.click('#tab-reports');
    return { page, problems };
  };
  const show = async (page: Page, period: { from: string; to: string }, groupBy: string) => {
    await page.fill('#report-from', period.from);
    await page.fill('#report-to', period.to);
    await page.selectOption('#report-group', groupBy);
    await page.click('#report-form button');
    // Locators wait without evaluating strings in the page (its CSP forbids eval).
    await page.locator(`#group-heading:text-is("${groupBy}")`).waitFor();
  };
  const cellsOf = (page: Page, selector: string) =>
    page
      .locator(selector)
      .evaluateAll((rows) => rows.map((tr) => [...tr.children].map((td) => td.textContent)));

  it('shows the figures the API gives, a bar per manager who answered and a point per day answered', async () => {
    const { page, problems } = await openReports();
    await show(page, { from, to }, 'manager');
    const byManager = await report('manager');
    const byDay = await report('day');
    // The history as written: three clients, five messages in, four answers, one reopening.
    assert.equal(byManager.total.conversations, 3);
    assert.deepEqual(byManager.rows.map((r) => [r.label, r.conversations, r.messages_out]).sort(), [
      ['(none)', 3, 0],
      ['Alice Support', 1, 2],
      ['Bob Helper', 1, 2],
    ]);
    assert.ok(byManager.total.first_response.max_s! >= 2, 'Ada waited about two seconds');

    // The table: a row per API row, in its order, every cell as the API's figure reads.
    assert.deepEqual(
      await cellsOf(page, '#report-table tbody tr'),
      byManager.rows.map((r) => [r.label, ...reportCells(r)]),
    );
    assert.deepEqual(await cellsOf(page, '#report-table tfoot tr'), [
      ['Total', ...reportCells(byManager.total)],
    ]);
    const alice = byManager.rows.find((r) => r.label === 'Alice Support')!;
    assert.equal(
      await page
        .locator('#report-table tbody tr', { hasText: 'Alice Support' })
        .locator('td')
        .nth(4)
        .textContent(),
      formatDuration(alice.first_response.max_s),
      "Alice's longest first response",
    );
    assert.deepEqual(await page.locator('#report-summary .value').allTextContents(), [
      '3',
      formatDuration(byManager.total.first_response.median_s),
      formatDuration(byManager.total.first_response.p90_s),
      formatDuration(byManager.total.resolution.median_s),
      '5 / 4',
    ]);
    // Who waits now: Cleo, unassigned, for some seconds.
    const cards = await page.locator('#report-waiting .value').allTextContents();
    assert.deepEqual(cards.slice(0, 2), ['1', '1']);
    assert.match(cards[2]!, /^\d+ s$|^\d+ min( \d+ s)?$/);

    // The charts: a bar per manager who answered (the clients' "(none)" row is not a manager) …
    const bars = page.locator('#chart-managers svg rect.bar');
    assert.deepEqual(
      await bars.evaluateAll((rects) =>
        rects.map((r) => [r.getAttribute('data-label'), r.getAttribute('data-value')]),
      ),
      byManager.rows
        .filter((r) => r.key !== '' && r.conversations > 0)
        .map((r) => [r.label, String(r.conversations)]),
    );
    assert.equal(await bars.count(), 2);
    // … and on the seven days' axis, a median and a p90 point for each day with a first response.
    const answeredDays = byDay.rows.filter((r) => r.first_response.median_s !== null);
    assert.ok(answeredDays.length >= 1, 'a day with first responses');
    for (const series of ['median', 'p90']) {
      const points = page.locator(`#chart-first-response svg circle.point[data-series="${series}"]`);
      assert.equal(await points.count(), answeredDays.length, series);
    }
    assert.equal(
      await page
        .locator('#chart-first-response svg circle.point[data-series="median"]')
        .first()
        .getAttribute('data-value'),
      String(answeredDays[0]!.first_response.median_s),
    );
    assert.equal(await page.locator('#chart-first-response svg text.xlabel').count(), 7, 'a label per day');
    await mkdir(join(screenshotPath, '..'), { recursive: true });
    await page.screenshot({ path: screenshotPath, fullPage: true });

    // By day: the table has today's row with the day's figures.
    await show(page, { from, to }, 'day');
    assert.deepEqual(
      await cellsOf(page, '#report-table tbody tr'),
      byDay.rows.map((r) => [r.label, ...reportCells(r)]),
    );
    assert.deepEqual(problems, [], 'no script errors (and the Content-Security-Policy let the script run)');
  });

  it('says "no data" for a quiet period, and shows the API’s message for a wrong one', async () => {
    const { page, problems } = await openReports();
    await show(page, { from: '2020-01-01', to: '2020-01-07' }, 'manager');
    await page.locator('#report-table td.no-data').waitFor();
    assert.equal(await page.locator('#report-table td.no-data').textContent(), 'No data in this period.');
    assert.deepEqual(await cellsOf(page, '#report-table tfoot tr'), [
      ['Total', '0', '—', '—', '—', '—', '—', '—', '0', '0', '0', '—'],
    ]);
    for (const chart of ['#chart-first-response', '#chart-managers']) {
      assert.equal(
        await page.locator(`${chart} svg.no-data text`).textContent(),
        'No data in this period',
        chart,
      );
      assert.equal(await page.locator(`${chart} svg .bar, ${chart} svg .point`).count(), 0, chart);
    }
    await page.screenshot({ path: screenshotPath.replace('.png', '-empty.png'), fullPage: true });

    // The end before the start: the API refuses and the page says what it said.
    await page.fill('#report-from', '2026-12-10');
    await page.fill('#report-to', '2026-12-01');
    await page.click('#report-form button');
    await page.locator('#error:has-text("query.to")').waitFor();
    assert.equal(
      await page.locator('#error').textContent(),
      'the request does not match the API contract: query.to must be after query.from (2026-12-10T00:00:00.000Z)',
    );
    assert.equal(await page.locator('#report-body').isHidden(), true, 'no stale figures under the error');
    assert.deepEqual(problems, []);
  });
});
