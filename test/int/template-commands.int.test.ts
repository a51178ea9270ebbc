// templates:set, templates:list and templates:remove run as `npx topicdesk` runs them (the CLI in a
// child process) against a real database: what they print, what they record and with which actor,
// and what they refuse, naming the argument.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import { createTemplatesStore } from '../../src/adapters/settings/templates.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import { cli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

describe('template commands (CLI, real database)', () => {
  let db: TestDatabase;
  let log: EventLog;
  const env = () => ({ DATABASE_URL: db.url });
  const templates = async () => (await createTemplatesStore(log).fresh()).state.templates;
  const changes = async () =>
    (await log.readStream('settings-templates')).map((e) => ({
      type: e.type,
      data: e.data,
      actor: e.metadata.actor,
    }));

  before(async () => {
    db = await createTestDatabase();
    log = createPgEventLog({ pool: db.pool, connectionString: db.url });
  });
  after(async () => {
    await log.close();
    await db.drop();
  });

  it('templates:set records a text per language, counting the version, with the CLI as the actor', async () => {
    const en = await cli(['templates:set', 'greeting', 'Hello', '{client_name}!'], env());
    assert.equal(en.code, 0, en.stderr);
    assert.equal(en.stdout.trim(), 'saved answer greeting v1: en text set (languages: en)');
    const ru = await cli(
      ['templates:set', 'greeting', '--locale', 'ru', 'Здравствуйте, {client_name}!'],
      env(),
    );
    assert.equal(ru.code, 0, ru.stderr);
    assert.equal(ru.stdout.trim(), 'saved answer greeting v2: ru text set (languages: en, ru)');
    const same = await cli(
      ['templates:set', 'greeting', '--locale', 'ru', 'Здравствуйте, {client_name}!'],
      env(),
    );
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /v2: the ru text is already this \(nothing changed\)/);

    assert.deepEqual((await templates()).get('greeting'), {
      name: 'greeting',
      version: 2,
      texts: { en: 'Hello {client_name}!', ru: 'Здравствуйте, {client_name}!' },
    });
    const recorded = await changes();
    assert.equal(recorded.length, 2, 'the unchanged text recorded nothing');
    for (const change of recorded) {
      assert.equal(change.actor.kind, 'system');
      assert.equal(change.actor.id, 'cli');
    }
  });

  it('templates:set refuses, naming the argument: the name, the language, unknown variables', async () => {
    const badName = await cli(['templates:set', 'Hello There', 'x'], env());
    assert.equal(badName.code, 1);
    assert.match(badName.stderr, /^topicdesk: <name>: "Hello There" is not a template name/);
    const badLocale = await cli(['templates:set', 'greeting', '--locale', 'de', 'Hallo'], env());
    assert.equal(badLocale.code, 1);
    assert.match(
      badLocale.stderr,
      /^topicdesk: --locale: unknown locale "de": a template's texts are in en, ru/,
    );
    const badVariable = await cli(['templates:set', 'greeting', 'Your order {order_id} ships'], env());
    assert.equal(badVariable.code, 1);
    assert.match(
      badVariable.stderr,
      /^topicdesk: <text>: unknown variable \{order_id\}: a template may use \{client_name\}/,
    );
    assert.equal((await changes()).length, 2, 'nothing recorded');
  });

  it('templates:list shows each saved answer with its version, who changed it last and its texts', async () => {
    await cli(['templates:set', 'refund', 'Your refund is on its way.'], env());
    const list = await cli(['templates:list'], env());
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.lines[0]!, /^greeting {2}v2 {2}changed \S+Z by system:cli/);
    assert.deepEqual(list.lines.slice(1, 3), [
      '  en  "Hello {client_name}!"',
      '  ru  "Здравствуйте, {client_name}!"',
    ]);
    assert.match(list.lines[3]!, /^refund {2}v1 /);
    const json = await cli(['templates:list', '--json'], env());
    const parsed = JSON.parse(json.stdout) as {
      templates: { name: string; version: number; updatedBy: { id: string } }[];
    };
    assert.deepEqual(
      parsed.templates.map((t) => [t.name, t.version, t.updatedBy.id]),
      [
        ['greeting', 2, 'cli'],
        ['refund', 1, 'cli'],
      ],
    );
  });

  it('history settings:templates lists every change with its actor, as the audit does', async () => {
    const run = await cli(['history', 'settings:templates'], env());
    assert.equal(run.code, 0, run.stderr);
    const rows = run.lines.filter((l) => /TemplateTextSet|TemplateTextRemoved|TemplateRemoved/.test(l));
    assert.equal(rows.length, 3);
    assert.match(
      rows[0]!,
      /system:cli +TemplateTextSet +saved answer greeting v1 \(en\) set: "Hello \{client_name\}!"/,
    );
    assert.match(rows[2]!, /saved answer refund v1 \(en\) set/);
  });

  it('templates:remove removes one language, or the whole saved answer; an unknown one is an error', async () => {
    const ru = await cli(['templates:remove', 'greeting', '--locale', 'ru'], env());
    assert.equal(ru.code, 0, ru.stderr);
    assert.equal(ru.stdout.trim(), 'saved answer greeting v3: ru text removed (languages: en)');
    const whole = await cli(['templates:remove', 'refund'], env());
    assert.equal(whole.code, 0, whole.stderr);
    assert.equal(whole.stdout.trim(), 'saved answer refund removed');
    assert.deepEqual([...(await templates()).keys()], ['greeting']);
    const missing = await cli(['templates:remove', 'refund'], env());
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^topicdesk: <name>: no template "refund"/);
    const noText = await cli(['templates:remove', 'greeting', '--locale', 'ru'], env());
    assert.equal(noText.code, 1);
    assert.match(noText.stderr, /^topicdesk: --locale: template "greeting" has no ru text \(it has en\)/);
    const empty = await cli(['templates:list'], env());
    assert.match(empty.stdout, /^greeting {2}v3 /);
  });
});
