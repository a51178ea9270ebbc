// The settings store on a real PostgreSQL log: two stores (two instances) on one stream, a change
// seen by the other once its freshness window passed, reads of the tail only, concurrent changes
// both recorded, and the audit history with each change's actor.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import { hoursKind, textsKind } from '../../src/adapters/settings/kinds.ts';
import { createSettingsStore } from '../../src/adapters/settings/store.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import type { Actor } from '../../src/domain/events.ts';
import { SettingsError, settingsStream } from '../../src/domain/settings.ts';
import { settingsHistory } from '../../src/projections/history.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const cli: Actor = { kind: 'system', id: 'cli' };
const admin: Actor = { kind: 'system', id: 'admin-api' };

describe('settings store', () => {
  let db: TestDatabase;
  let log: EventLog;
  before(async () => {
    db = await createTestDatabase();
    log = createPgEventLog({ pool: db.pool, connectionString: db.url });
  });
  after(async () => {
    await log.close();
    await db.drop();
  });

  it('another instance sees a change once its freshness window has passed, reading only the tail', async () => {
    let clock = 1_000_000;
    const reads: number[] = [];
    const counting: EventLog = {
      ...log,
      readStream: (stream, options) => {
        reads.push(options?.fromRevision ?? 0);
        return log.readStream(stream, options);
      },
    };
    const a = createSettingsStore({ log, ...textsKind, now: () => clock });
    const b = createSettingsStore({ log: counting, ...textsKind, now: () => clock, freshnessMs: 2000 });
    assert.deepEqual((await b.current()).state.overrides, {});
    await a.change({ type: 'SetTextOverride', locale: 'ru', key: 'client.closed', text: 'Закрыто.' }, cli);
    clock += 1999;
    assert.deepEqual((await b.current()).state.overrides, {}, 'within the window: the held state');
    clock += 1;
    const seen = await b.current();
    assert.deepEqual(seen.state.overrides, { ru: { 'client.closed': 'Закрыто.' } });
    assert.equal(seen.revision, 0);
    await a.change({ type: 'SetTextOverride', locale: 'en', key: 'client.banned', text: 'Not now.' }, admin);
    clock += 2000;
    assert.equal((await b.current()).revision, 1);
    assert.deepEqual(reads, [0, 0, 1], 'each read starts after the revision held');
  });

  it('records two changes made at once by two instances, each decided on the other', async () => {
    const a = createSettingsStore({ log, ...hoursKind });
    const b = createSettingsStore({ log, ...hoursKind });
    await Promise.all([
      a.change(
        { type: 'SetWorkingHours', hours: { timeZone: 'Europe/Moscow', weekly: {}, exceptions: [] } },
        cli,
      ),
      b.change(
        { type: 'SetWorkingHours', hours: { timeZone: 'Asia/Tokyo', weekly: {}, exceptions: [] } },
        admin,
      ),
    ]);
    const events = await log.readStream(settingsStream('hours'));
    assert.equal(events.length, 2);
    const last = await a.fresh();
    assert.equal(last.revision, 1);
    assert.ok(last.state.hours);
  });

  it('a refused change records nothing and names the field', async () => {
    const store = createSettingsStore({ log, ...textsKind });
    const before = (await log.readStream(settingsStream('texts'))).length;
    await assert.rejects(
      store.change({ type: 'SetTextOverride', locale: 'en', key: 'client.closed', text: 'Hi {name}' }, cli),
      (e: unknown) => e instanceof SettingsError && e.field === 'text' && /client\.closed/.test(e.message),
    );
    assert.equal((await log.readStream(settingsStream('texts'))).length, before);
  });

  it('the audit history lists each change with its actor and a summary', async () => {
    const history = await settingsHistory(log, textsKind.definition, textsKind.decode);
    assert.deepEqual(
      history.map((e) => [e.revision, e.type, `${e.actor.kind}:${e.actor.id}`, e.summary]),
      [
        [0, 'TextOverrideSet', 'system:cli', 'text client.closed (ru) set: "Закрыто."'],
        [1, 'TextOverrideSet', 'system:admin-api', 'text client.banned (en) set: "Not now."'],
      ],
    );
  });
});
