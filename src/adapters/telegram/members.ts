// The support group's members as the bot has seen them write: Telegram user id, @username and name.
// The Bot API cannot look a user up by @username, so `/assign @username` resolves the name here
// (docs/design.md, "Assignment"). Not the log's business: a directory of who is who, refreshed by
// every message a member writes in the group; losing it costs only a reply-based `/assign`.
import type { User } from 'grammy/types';
import type pg from 'pg';
import type { Migration } from '../postgres/migrations.ts';

export const groupMembersMigration: Migration = {
  id: '007_group_members',
  sql: `
CREATE TABLE td_group_members (
  user_id  bigint PRIMARY KEY,
  username text,
  name     text NOT NULL,
  seen_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX td_group_members_username ON td_group_members (lower(username), seen_at DESC)
  WHERE username IS NOT NULL;
`,
  grants: (role) => `GRANT SELECT, INSERT, UPDATE ON td_group_members TO ${role};`,
};

/** A member as the bot knows them. */
export interface KnownMember {
  readonly id: number;
  readonly name: string;
}

export interface MemberDirectory {
  /** A member wrote in the group: remembered (written only when their username or name changed). */
  seen(user: User): Promise<void>;
  /** The member who last wrote under `username` (with or without `@`, any case). */
  byUsername(username: string): Promise<KnownMember | undefined>;
}

/** The name the bot shows for a member (first and last name, as managers' answers are signed). */
export const memberName = (user: Pick<User, 'first_name' | 'last_name'>): string =>
  [user.first_name, user.last_name].filter(Boolean).join(' ') || 'manager';

export const createMemberDirectory = (pool: pg.Pool): MemberDirectory => {
  // What this process wrote last per user: a member writing all day costs one row write.
  const written = new Map<number, string>();
  return {
    async seen(user) {
      const username = user.username ?? null;
      const name = memberName(user);
      const key = `${username ?? ''}\n${name}`;
      if (written.get(user.id) === key) return;
      await pool.query(
        `INSERT INTO td_group_members (user_id, username, name, seen_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (user_id) DO UPDATE SET username = EXCLUDED.username, name = EXCLUDED.name, seen_at = now()`,
        [user.id, username, name],
      );
      written.set(user.id, key);
      if (written.size > 1000) written.delete(written.keys().next().value!);
    },
    async byUsername(username) {
      const { rows } = await pool.query<{ user_id: string; name: string }>(
        `SELECT user_id, name FROM td_group_members WHERE lower(username) = lower($1)
         ORDER BY seen_at DESC LIMIT 1`,
        [username.replace(/^@+/, '')],
      );
      const row = rows[0];
      return row ? { id: Number(row.user_id), name: row.name } : undefined;
    },
  };
};
