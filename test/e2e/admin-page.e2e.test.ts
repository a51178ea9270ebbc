// The audit page at /admin in a real browser: Debian's Chromium driven by playwright-core (no browser
// download). An admin opens the page, enters the token, picks a conversation and reads its timeline —
// the edit with the old and new text, the deletion — then moves the time slider back to before the
// edit and sees the conversation as it stood then. A screenshot is saved to .artifacts/.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { type Harness, startHarness, waitFor } from '../support/app-harness.ts';
import { chromiumPath, launchChromium, NO_CHROMIUM } from '../support/chromium.ts';

const ADMIN_TOKEN = 'admin-token-for-the-page-test-0123';
export const screenshotPath = join(import.meta.dirname, '../../.artifacts/admin-audit.png');

const bot = (text: string) => ({
  text,
  entities: [{ type: 'bot_command' as const, offset: 0, length: text.length }],
});

describe('audit page (headless Chromium)', {
  skip: chromiumPath ? false : NO_CHROMIUM,
}, () => {
  let h: Harness;
  let browser: Browser;
  let conversationId: string;

  before(async () => {
    h = await startHarness({ ADMIN_TOKEN });
    const user = h.tg.addUser({ first_name: 'Ada', last_name: 'Lovelace' });
    const question = h.tg.privateMessage(user, { text: 'Where is my order?' });
    await h.send(question);
    await h.topicCopyOf(user.id, question.message!.message_id);
    const topic = await h.topicOf(user.id);
    await h.send(
      h.tg.editedPrivateMessage(user, question.message!.message_id, { text: 'Where is my order #42?' }),
    );
    const manager = h.tg.addManager({ first_name: 'Alice', last_name: 'Support' });
    const answer = h.tg.groupMessage(manager, topic, { text: 'It ships today' });
    await h.send(answer);
    await h.clientCopyOf(user.id, answer.message!.message_id);
    await h.send(h.tg.groupMessage(manager, topic, { text: '// checked with the warehouse' }));
    await h.send(
      h.tg.groupMessage(manager, topic, bot('/delete'), { reply_to_message_id: answer.message!.message_id }),
    );
    conversationId = h.conversationOf(user.id);
    await waitFor('the deletion recorded', async () =>
      (await h.events({ type: 'ReplyDelivered', conversationId })).some(
        (e) => (e.data as { operation?: string }).operation === 'delete',
      )
        ? true
        : undefined,
    );
    await waitFor('the conversation listed', async () => {
      const { rows } = await h.db.pool.query('SELECT 1 FROM rm_conversations WHERE conversation_id = $1', [
        conversationId,
      ]);
      return rows.length > 0 ? true : undefined;
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await h?.stop();
  });

  it('shows the timeline with the edit (old → new) and the deletion, and the past state on the slider', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));

    await page.goto(`${h.url}/admin`);
    await page.fill('#token', ADMIN_TOKEN);
    await page.click('#login button');
    await page.click(`#conversations li[data-id="${conversationId}"]`);

    const edited = page.locator('#timeline li[data-type="ClientMessageEdited"]');
    await edited.waitFor();
    assert.equal(await edited.locator('.old').textContent(), 'Where is my order?');
    assert.equal(await edited.locator('.new').textContent(), 'Where is my order #42?');
    // The team's note: in the timeline and in the conversation, marked as never sent.
    const note = page.locator('#timeline li[data-type="NoteAdded"]');
    assert.equal(await note.getAttribute('class'), 'note');
    assert.match(
      (await note.locator('.kind').textContent()) ?? '',
      /Internal note — Alice Support \(not sent to the client\)/,
    );
    assert.equal(await note.locator('.new').textContent(), 'checked with the warehouse');
    await page.locator('#messages .note').waitFor();
    assert.equal(await page.locator('#messages .note .text').textContent(), 'checked with the warehouse');
    const deleted = page.locator('#timeline li[data-type="ManagerReplyDeleted"]');
    assert.equal(await deleted.locator('.old').textContent(), 'It ships today', 'what was deleted');
    assert.match((await deleted.locator('.kind').textContent()) ?? '', /Alice Support/);

    // Now: the edited question, the answer shown as deleted.
    await page.locator('#messages .msg.outgoing.deleted').waitFor();
    assert.deepEqual(await page.locator('#messages .msg .text').allTextContents(), [
      'Where is my order #42?',
      'It ships today',
    ]);
    await mkdir(join(screenshotPath, '..'), { recursive: true });
    await page.screenshot({ path: screenshotPath, fullPage: true });

    // Back to the moment the question arrived: as first written, no answer yet.
    const types = await page
      .locator('#timeline li')
      .evaluateAll((items) => items.map((li) => li.getAttribute('data-type')));
    const received = types.indexOf('ClientMessageReceived');
    await page.locator('#slider').fill(String(received));
    // Locators wait without evaluating strings in the page (its CSP forbids eval).
    await page.locator('#messages .msg .text').nth(1).waitFor({ state: 'detached' });
    assert.deepEqual(await page.locator('#messages .msg .text').allTextContents(), ['Where is my order?']);
    assert.equal(
      await page.locator('#timeline li.future').count(),
      types.length - received - 1,
      'later events dimmed',
    );
    await page.screenshot({ path: screenshotPath.replace('.png', '-before-edit.png'), fullPage: true });
    assert.deepEqual(problems, [], 'no script errors (and the Content-Security-Policy let the script run)');
  });

  it('lists the changes of texts, saved answers and working hours with who made them', async () => {
    const put = (path: string, json: unknown) =>
      fetch(`${h.url}${path}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(json),
      });
    assert.equal((await put('/api/admin/texts/ru/client.closed', { text: 'Диалог закрыт.' })).status, 200);
    assert.equal(
      (await put('/api/admin/templates/greeting/texts/en', { text: 'Hello {client_name}!' })).status,
      201,
    );
    assert.equal(
      (await put('/api/admin/hours', { time_zone: 'Europe/Moscow', weekly: { mon: ['09:00-18:00'] } }))
        .status,
      200,
    );
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${h.url}/admin`);
    await page.fill('#token', ADMIN_TOKEN);
    await page.click('#login button');
    await page.click('#settings-button');
    const items = page.locator('#settings-timeline li');
    await items.nth(2).waitFor();
    assert.deepEqual(await items.locator('.kind').allTextContents(), [
      'texts: TextOverrideSet — system:admin-api',
      'templates: TemplateTextSet — system:admin-api',
      'hours: WorkingHoursSet — system:admin-api',
    ]);
    assert.match(
      (await items.nth(1).textContent()) ?? '',
      /saved answer greeting v1 \(en\) set: "Hello \{client_name\}!"/,
    );
    assert.match(
      (await items.nth(0).textContent()) ?? '',
      /text client\.closed \(ru\) set: "Диалог закрыт\."/,
    );
    await page.screenshot({ path: screenshotPath.replace('.png', '-settings.png'), fullPage: true });
    assert.deepEqual(problems, []);
  });
});
