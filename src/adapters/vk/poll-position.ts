// The Bots Long Poll position in PostgreSQL: one row per community, the `ts` after the last update
// recorded. Not the log's business (VK's counter, not a fact about a conversation); losing it costs
// the updates of one outage, which is what keeping it prevents.
import type pg from 'pg';
import type { Migration } from '../postgres/migrations.ts';
import type { LongPollPosition } from './long-poll.ts';

export const vkLongPollMigration: Migration = {
  id: '012_vk_long_poll',
  sql: `
CREATE TABLE td_vk_long_poll (
  group_id   bigint PRIMARY KEY,
  ts         text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);`,
  grants: (role) => `GRANT SELECT, INSERT, UPDATE ON td_vk_long_poll TO ${role};`,
};

export const pgLongPollPosition = (pool: pg.Pool, groupId: number): LongPollPosition => ({
  async load() {
    const { rows } = await pool.query<{ ts: string }>('SELECT ts FROM td_vk_long_poll WHERE group_id = $1', [
      groupId,
    ]);
    return rows[0]?.ts;
  },
  async save(ts) {
    // Several instances may poll one community: a repeat is skipped by its event id, so the last
    // writer wins rather than a comparison of VK's counters.
    await pool.query(
      `INSERT INTO td_vk_long_poll (group_id, ts) VALUES ($1, $2)
       ON CONFLICT (group_id) DO UPDATE SET ts = EXCLUDED.ts, updated_at = now()`,
      [groupId, ts],
    );
  },
});
