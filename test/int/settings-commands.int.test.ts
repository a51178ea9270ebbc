// texts:* and hours:* run as `npx topicdesk` runs them (the CLI in a child process) against a real
// database: an override is recorded with the actor system:cli and read back; a wrong one is one line
// naming what is wrong, exit code 1, nothing recorded; `history settings:texts` lists the changes.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import { settingsStream } from '../../src/domain/settings.ts';
import { cli } from '../support/cli.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

describe('settings commands (CLI, real database)', () => {
  let db: TestDatabase;
  let log: EventLog;
  const env = () => ({ DATABASE_URL: db.url });
  const recorded = async (kind: 'texts' | 'hours') => log.readStream(settingsStream(kind));

  before(async () => {
    db = await createTestDatabase();
    log = createPgEventLog({ pool: db.pool, connectionString: db.url });
  });
  after(async () => {
    await log.close();
    await db.drop();
  });

  it('texts:set overrides one text in one language, recorded with the actor system:cli', async () => {
    const run = await cli(['texts:set', 'ru', 'client.closed', 'Диалог закрыт. Пишите, если что.'], env());
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.lines, ['text client.closed (ru) set']);
    const events = await recorded('texts');
    assert.equal(events.length, 1);
    assert.equal(events[0]!.type, 'TextOverrideSet');
    assert.deepEqual(events[0]!.metadata.actor, { kind: 'system', id: 'cli' });

    const list = await cli(['texts:list', '--locale', 'ru', '--json'], env());
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout) as { key: string; text: string; origin: string }[];
    const closed = rows.find((r) => r.key === 'client.closed');
    assert.deepEqual(
      { text: closed?.text, origin: closed?.origin },
      { text: 'Диалог закрыт. Пишите, если что.', origin: 'override' },
    );
    // Exactly that text: the next one is still the shipped one.
    assert.equal(rows.find((r) => r.key === 'client.banned')?.origin, 'shipped');
    assert.equal(rows.find((r) => r.key === 'client.welcome.telegram')?.origin, 'inherited');
  });

  it('refuses an unknown key, an unknown language, a variable the key lacks and a missing required one', async () => {
    const before = (await recorded('texts')).length;
    const cases: [string[], RegExp][] = [
      [['texts:set', 'ru', 'client.nope', 'x'], /unknown text key "client\.nope"/],
      [['texts:set', 'de', 'client.closed', 'x'], /unknown locale "de": texts are shipped in en, ru/],
      [['texts:set', 'en', 'client.closed', 'Bye {name}'], /"client\.closed" uses \{name\}/],
      [
        ['texts:set', 'en', 'client.off_hours', 'We are closed.'],
        /"client\.off_hours" must use \{opens_at\}/,
      ],
      [['texts:remove', 'en', 'client.banned'], /"client\.banned" has no override in en/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args, env());
      assert.equal(run.code, 1, `${args.join(' ')}: ${run.stdout}`);
      const lines = run.stderr.trim().split('\n');
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0]!, message);
    }
    assert.equal((await recorded('texts')).length, before, 'nothing recorded');
  });

  it('texts:remove brings the shipped text back', async () => {
    const run = await cli(['texts:remove', 'ru', 'client.closed'], env());
    assert.equal(run.code, 0, run.stderr);
    const list = await cli(['texts:list', '--locale', 'ru', '--json'], env());
    const rows = JSON.parse(list.stdout) as { key: string; origin: string }[];
    assert.equal(rows.find((r) => r.key === 'client.closed')?.origin, 'shipped');
  });

  it('hours:set takes a JSON file, hours:show prints it; a wrong file is one line naming the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'topicdesk-hours-'));
    const good = join(dir, 'hours.json');
    await writeFile(
      good,
      JSON.stringify({
        time_zone: 'Europe/Moscow',
        weekly: { mon: ['09:00-18:00'], fri: ['09:00-17:00'] },
        exceptions: [{ date: '2027-01-01', hours: [], note: 'New Year' }],
      }),
    );
    const set = await cli(['hours:set', good], env());
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.lines[0], 'working hours set');
    assert.ok(set.lines.includes('mon: 09:00-18:00'), set.stdout);
    assert.ok(set.lines.includes('2027-01-01: closed  (New Year)'), set.stdout);
    const show = await cli(['hours:show', '--json'], env());
    assert.deepEqual(JSON.parse(show.stdout).weekly, { mon: ['09:00-18:00'], fri: ['09:00-17:00'] });

    const bad = join(dir, 'bad.json');
    for (const [body, message] of [
      [{ time_zone: 'Moscow', weekly: {} }, /bad\.json: time_zone: the time zone must be an IANA time zone/],
      [{ time_zone: 'UTC', weekly: { mon: ['9-18'] } }, /bad\.json: weekly\.mon\[0\] must be "HH:MM-HH:MM"/],
      [
        { time_zone: 'UTC', weekly: {}, holidays: [] },
        /bad\.json: holidays is not part of working hours \(time_zone, weekly, exceptions\)/,
      ],
    ] as const) {
      await writeFile(bad, JSON.stringify(body));
      const run = await cli(['hours:set', bad], env());
      assert.equal(run.code, 1, run.stdout);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      assert.match(run.stderr, message);
    }
    await writeFile(bad, '{"time_zone": ');
    const notJson = await cli(['hours:set', bad], env());
    assert.equal(notJson.code, 1);
    assert.match(notJson.stderr, /bad\.json: not JSON/);
    assert.equal((await recorded('hours')).length, 1, 'only the good file was recorded');
  });

  it('history settings:texts lists each change with its actor', async () => {
    const run = await cli(['history', 'settings:texts'], env());
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.lines[0], 'settings texts: 2 events');
    assert.match(
      run.lines[2]!,
      /^0 .* system:cli +TextOverrideSet +text client\.closed \(ru\) set: "Диалог закрыт/,
    );
    assert.match(
      run.lines[3]!,
      /^1 .* system:cli +TextOverrideRemoved +text client\.closed \(ru\) back to the shipped one/,
    );
  });
});
