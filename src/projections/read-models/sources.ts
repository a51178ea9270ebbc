// rm_sources and rm_source_tokens: who may call the external API, and where their webhooks go.
import type { SourceEvent } from '../../domain/source.ts';
import type { Projection } from '../projection.ts';

export const sourcesProjection: Projection = {
  name: 'sources',
  version: 2,
  tables: ['rm_sources', 'rm_source_tokens'],
  createTables: (t) => `
CREATE TABLE ${t('rm_sources')} (
  code           text PRIMARY KEY,
  webhook_url    text,
  webhook_secret text NOT NULL,
  compat         jsonb,
  created_at     timestamptz NOT NULL,
  revision       bigint NOT NULL
);
CREATE TABLE ${t('rm_source_tokens')} (
  token_id    text PRIMARY KEY,
  source_code text NOT NULL,
  hash        text NOT NULL,
  created_at  timestamptz NOT NULL,
  revoked_at  timestamptz,
  revision    bigint NOT NULL
)`,
  createIndexes: (t) =>
    `CREATE INDEX ${t('rm_source_tokens')}_source ON ${t('rm_source_tokens')} (source_code)`,
  // Few events, rarely: one statement per event keeps this obvious.
  async apply(sql, events, ctx) {
    // A generation built before version 2 has no `compat` column: it keeps being followed without
    // one (every source speaking topicdesk's own API) until projections:rebuild brings version 2.
    const withCompat = async (): Promise<boolean> => {
      let known = ctx.memory.get('compat column') as boolean | undefined;
      if (known === undefined) {
        const { rowCount } = await sql.query(
          `SELECT 1 FROM information_schema.columns WHERE table_name = $1 AND column_name = 'compat'`,
          [ctx.t('rm_sources')],
        );
        known = (rowCount ?? 0) > 0;
        ctx.memory.set('compat column', known);
      }
      return known;
    };
    for (const e of events) {
      if (!e.stream.startsWith('source-')) continue;
      const code = e.stream.slice('source-'.length);
      const event = { type: e.type, data: e.data } as SourceEvent;
      const at = e.metadata.occurredAt;
      switch (event.type) {
        case 'SourceRegistered':
          ctx.write(
            `INSERT INTO ${ctx.t('rm_sources')} (code, webhook_url, webhook_secret, created_at, revision)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO NOTHING`,
            [code, event.data.webhookUrl, event.data.webhookSecret, at, e.revision],
          );
          if (event.data.compat && (await withCompat()))
            ctx.write(`UPDATE ${ctx.t('rm_sources')} SET compat = $2 WHERE code = $1 AND revision = $3`, [
              code,
              event.data.compat,
              e.revision,
            ]);
          break;
        case 'SourceCompatChanged':
          if (!(await withCompat())) break;
          ctx.write(
            `UPDATE ${ctx.t('rm_sources')} SET compat = $2, revision = $3 WHERE code = $1 AND revision < $3`,
            [code, event.data.compat, e.revision],
          );
          // Instances forget every remembered token (an empty payload): the next request sees the dialect.
          ctx.write(`SELECT pg_notify('td_tokens', '')`);
          break;
        case 'SourceWebhookChanged':
          ctx.write(
            `UPDATE ${ctx.t('rm_sources')} SET webhook_url = $2, revision = $3 WHERE code = $1 AND revision < $3`,
            [code, event.data.webhookUrl, e.revision],
          );
          break;
        case 'SourceWebhookSecretRotated':
          ctx.write(
            `UPDATE ${ctx.t('rm_sources')} SET webhook_secret = $2, revision = $3 WHERE code = $1 AND revision < $3`,
            [code, event.data.webhookSecret, e.revision],
          );
          break;
        case 'TokenIssued':
          ctx.write(
            `INSERT INTO ${ctx.t('rm_source_tokens')} (token_id, source_code, hash, created_at, revision)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token_id) DO NOTHING`,
            [event.data.tokenId, code, event.data.hash, at, e.revision],
          );
          break;
        case 'TokenRevoked':
          ctx.write(
            `UPDATE ${ctx.t('rm_source_tokens')} SET revoked_at = $2, revision = $3 WHERE token_id = $1 AND revision < $3`,
            [event.data.tokenId, at, e.revision],
          );
          // Delivered at commit: instances that remember this token forget it (token-cache.ts).
          ctx.write(`SELECT pg_notify('td_tokens', $1)`, [event.data.tokenId]);
          break;
        default:
          break;
      }
    }
  },
};
