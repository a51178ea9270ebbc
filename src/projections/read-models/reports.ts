// The reports projection (docs/design.md, "Reports"): rm_report_conversations (each conversation's
// running figures), rm_report_facts (narrow rows the report queries aggregate, indexed by time) and
// rm_report_settings (the working hours in force, folded from settings-hours in log order, so a
// rebuild measures every wait against the schedule the live run used).
import type { RecordedEvent } from '../../domain/event-log.ts';
import type { ConversationEvent } from '../../domain/events.ts';
import { type HoursEvent, hoursSettings, type WorkingHours } from '../../domain/settings/hours.ts';
import { settingsStream } from '../../domain/settings.ts';
import type { BatchContext, Projection } from '../projection.ts';
import type { SqlClient } from '../sql.ts';
import { begunIn, heldRows, hold, rowsFor } from './held-rows.ts';
import { type ReportConversationRow, type ReportFact, reportStep } from './report-facts.ts';
import { type Column, conversationIdOfStream, upsertRows } from './rows.ts';

const conversationColumns: readonly Column[] = [
  { name: 'conversation_id', type: 'uuid' },
  { name: 'channel', type: 'text' },
  { name: 'source', type: 'text' },
  { name: 'started_at', type: 'timestamptz' },
  { name: 'opened_at', type: 'timestamptz' },
  { name: 'status', type: 'text' },
  { name: 'waiting_since', type: 'timestamptz' },
  { name: 'first_response_at', type: 'timestamptz' },
  { name: 'first_response_s', type: 'int' },
  { name: 'first_response_business_s', type: 'int' },
  { name: 'assignee_id', type: 'text' },
  { name: 'assignee_name', type: 'text' },
  { name: 'last_manager_id', type: 'text' },
  { name: 'last_manager_name', type: 'text' },
  { name: 'reopened', type: 'int' },
  { name: 'messages_in', type: 'int' },
  { name: 'messages_out', type: 'int' },
  { name: 'last_active_at', type: 'timestamptz' },
  { name: 'last_active', type: 'jsonb' },
  { name: 'revision', type: 'bigint' },
];

// Names are not stored per fact: the report labels its rows from rm_report_people (savePeople).
const factColumns: readonly Column[] = [
  { name: 'conversation_id', type: 'uuid' },
  { name: 'at', type: 'timestamptz' },
  { name: 'kind', type: 'text' },
  { name: 'first', type: 'boolean' },
  { name: 'wall_s', type: 'int' },
  { name: 'business_s', type: 'int' },
  { name: 'manager_id', type: 'text' },
  { name: 'assignee_id', type: 'text' },
  { name: 'source', type: 'text' },
  { name: 'channel', type: 'text' },
  { name: 'rating', type: 'smallint' },
  { name: 'prev_any', type: 'timestamptz' },
  { name: 'prev_manager', type: 'timestamptz' },
  { name: 'prev_assignee', type: 'timestamptz' },
];

const HOURS_STREAM = settingsStream('hours');

/** The schedule the projection folded so far (null: none set, every second counts). */
const loadHours = async (sql: SqlClient, table: string): Promise<WorkingHours | null> => {
  const { rows } = await sql.query<{ hours: WorkingHours | null }>(`SELECT hours FROM ${table} WHERE id = 1`);
  return rows[0]?.hours ?? null;
};

/** The names the report labels its manager and assignee rows with: the latest each person went by. */
const savePeople = (ctx: BatchContext, table: string, facts: readonly ReportFact[]) => {
  const names = new Map<string, string>();
  for (const f of facts) {
    if (f.manager_id !== null && f.manager_name) names.set(f.manager_id, f.manager_name);
    if (f.assignee_id !== null && f.assignee_name) names.set(f.assignee_id, f.assignee_name);
  }
  if (names.size === 0) return;
  ctx.write(
    `INSERT INTO ${table} (id, name) SELECT * FROM unnest($1::text[], $2::text[])
     ON CONFLICT (id) DO UPDATE SET name = excluded.name WHERE ${table}.name IS DISTINCT FROM excluded.name`,
    [[...names.keys()], [...names.values()]],
  );
};

const ts = (column: string) => `to_json(${column})#>>'{}' AS ${column}`;

export const reportsProjection: Projection = {
  name: 'reports',
  // 2: facts marked with the previous activities (prev_*), rm_report_people. The old generation is
  // given the columns, but its facts have none: `projections:rebuild reports` fills them.
  version: 2,
  tables: ['rm_report_conversations', 'rm_report_facts', 'rm_report_settings', 'rm_report_people'],
  createTables: (t) => `
CREATE TABLE ${t('rm_report_conversations')} (
  conversation_id           uuid PRIMARY KEY,
  channel                   text NOT NULL,
  source                    text NOT NULL,
  started_at                timestamptz NOT NULL,
  opened_at                 timestamptz NOT NULL,
  status                    text NOT NULL,
  waiting_since             timestamptz,
  first_response_at         timestamptz,
  first_response_s          int,
  first_response_business_s int,
  assignee_id               text,
  assignee_name             text,
  last_manager_id           text,
  last_manager_name         text,
  reopened                  int NOT NULL,
  messages_in               int NOT NULL,
  messages_out              int NOT NULL,
  last_active_at            timestamptz,
  last_active               jsonb NOT NULL DEFAULT '{}',
  revision                  bigint NOT NULL
);
CREATE TABLE ${t('rm_report_facts')} (
  at              timestamptz NOT NULL,
  conversation_id uuid NOT NULL,
  kind            "char" NOT NULL,
  first           boolean NOT NULL,
  wall_s          int,
  business_s      int,
  rating          smallint,
  manager_id      text,
  assignee_id     text,
  source          text NOT NULL,
  channel         text NOT NULL,
  prev_any        timestamptz,
  prev_manager    timestamptz,
  prev_assignee   timestamptz
) WITH (parallel_workers = 0);
CREATE TABLE ${t('rm_report_people')} (
  id   text PRIMARY KEY,
  name text NOT NULL
);
CREATE TABLE ${t('rm_report_settings')} (
  id       int PRIMARY KEY CHECK (id = 1),
  hours    jsonb,
  revision bigint NOT NULL
)`,
  // Reports ask for a period: every query starts from a time index holding every column it reads
  // (an index-only scan, no heap visits; fixed-width columns first, which a row reads fastest), the
  // durations' from the facts that carry one. Facts are
  // only ever added (guarded by the conversation row's revision), so they need no key.
  createIndexes: (t) => `
CREATE INDEX ${t('rm_report_facts')}_at ON ${t('rm_report_facts')} (at)
  INCLUDE (kind, rating, prev_any, prev_manager, prev_assignee, manager_id, assignee_id, source, channel);
CREATE INDEX ${t('rm_report_facts')}_timed ON ${t('rm_report_facts')} (at)
  INCLUDE (kind, first, wall_s, business_s, manager_id, assignee_id, source, channel) WHERE wall_s IS NOT NULL;
CREATE INDEX ${t('rm_report_conversations')}_first ON ${t('rm_report_conversations')} (first_response_at)
  WHERE first_response_at IS NOT NULL`,
  upgrade: (t, from) =>
    from < 2
      ? `ALTER TABLE ${t('rm_report_conversations')} ADD COLUMN IF NOT EXISTS last_active_at timestamptz,
  ADD COLUMN IF NOT EXISTS last_active jsonb NOT NULL DEFAULT '{}';
ALTER TABLE ${t('rm_report_facts')} ADD COLUMN IF NOT EXISTS prev_any timestamptz,
  ADD COLUMN IF NOT EXISTS prev_manager timestamptz, ADD COLUMN IF NOT EXISTS prev_assignee timestamptz;
CREATE TABLE IF NOT EXISTS ${t('rm_report_people')} (id text PRIMARY KEY, name text NOT NULL)`
      : undefined,
  async apply(sql, events, ctx) {
    const table = ctx.t('rm_report_conversations');
    const settingsTable = ctx.t('rm_report_settings');
    const ids = [
      ...new Set(events.map((e) => conversationIdOfStream(e.stream)).filter((x): x is string => !!x)),
    ];
    const hoursEvents = events.filter((e) => e.stream === HOURS_STREAM);
    if (ids.length === 0 && hoursEvents.length === 0) return;

    // The schedule changes only by the events folded below: read once a run, then held.
    let hours = ctx.memory.has('hours')
      ? (ctx.memory.get('hours') as WorkingHours | null)
      : await loadHours(sql, settingsTable);
    const held = heldRows<ReportConversationRow>(ctx.memory, 'rows');
    const current = await rowsFor(held, ids, begunIn(events), async (missing) => {
      const { rows } = await sql.query<ReportConversationRow>(
        `SELECT conversation_id, channel, source, ${ts('started_at')}, ${ts('opened_at')}, status,
           ${ts('waiting_since')}, ${ts('first_response_at')}, first_response_s, first_response_business_s,
           assignee_id, assignee_name, last_manager_id, last_manager_name, reopened, messages_in, messages_out,
           ${ts('last_active_at')}, last_active, revision::int AS revision
         FROM ${table} WHERE conversation_id = ANY ($1::uuid[])`,
        [missing],
      );
      return rows;
    });
    const changed = new Set<string>();
    const facts: ReportFact[] = [];
    let hoursRevision: number | undefined;
    for (const e of events) {
      if (e.stream === HOURS_STREAM) {
        hours = hoursSettings.evolve({ hours }, e as unknown as HoursEvent).hours;
        hoursRevision = e.revision;
        continue;
      }
      const id = conversationIdOfStream(e.stream);
      if (!id) continue;
      const row = current.get(id);
      if (row && row.revision >= e.revision) continue;
      const step = reportStep(row, id, e as unknown as ConversationEvent, e as RecordedEvent, hours);
      if (step.row && step.row !== row) {
        current.set(id, step.row);
        changed.add(id);
      }
      facts.push(...step.facts);
    }
    upsertRows(
      ctx,
      table,
      conversationColumns,
      ['conversation_id'],
      [...changed].map((id) => current.get(id)! as unknown as Record<string, unknown>),
    );
    if (facts.length > 0) {
      const names = factColumns.map((c) => c.name).join(', ');
      ctx.write(
        `INSERT INTO ${ctx.t('rm_report_facts')} (${names})
         SELECT ${names} FROM jsonb_to_recordset($1::jsonb) AS r(${factColumns.map((c) => `${c.name} ${c.type}`).join(', ')})`,
        [JSON.stringify(facts)],
      );
    }
    savePeople(ctx, ctx.t('rm_report_people'), facts);
    if (hoursRevision !== undefined) {
      ctx.write(
        `INSERT INTO ${settingsTable} (id, hours, revision) VALUES (1, $1::jsonb, $2)
         ON CONFLICT (id) DO UPDATE SET hours = excluded.hours, revision = excluded.revision`,
        [JSON.stringify(hours), hoursRevision],
      );
    }
    ctx.memory.set('hours', hours);
    hold(held, current);
  },
};
