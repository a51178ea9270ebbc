// sources:create, app:generate-token (tg-support-bot's name), tokens:create, tokens:revoke, sources:list

import { sqlDatabase } from '../../adapters/postgres/sql.ts';
import { createSource, issueToken, runSourceCommand } from '../../adapters/sources/sources.ts';
import { sourcesProjection } from '../../projections/read-models/sources.ts';
import { catchUpProjection } from '../../projections/runner.ts';
import type { Context } from '../context.ts';

/** The read model may be behind when the service is not running: bring it up to date first. */
const freshSources = (ctx: Context) =>
  catchUpProjection({ db: sqlDatabase(ctx.db.pool), log: ctx.log, projection: sourcesProjection });

const checkUrl = (url: string | undefined): string | null => {
  if (!url) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--webhook-url must be an http(s) URL (got "${url}")`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new Error(`--webhook-url must be an http(s) URL (got "${url}")`);
  }
  return parsed.toString();
};

/** The token goes alone on the last line, so scripts can take it with `tail -n 1`. */
const printToken = (lines: string[], token: string) => {
  for (const line of lines) console.log(line);
  console.log('The token is shown only this once; store it now.');
  console.log(token);
};

export const createSourceCommand = async (ctx: Context, code: string, webhookUrl: string | undefined) => {
  const token = await createSource(ctx.log, code, checkUrl(webhookUrl));
  printToken(
    [
      `source ${code} created${webhookUrl ? `, webhooks to ${webhookUrl}` : ' (no webhook: poll GET /api/external/messages)'}`,
      `token id: ${token.tokenId}`,
      ...(webhookUrl ? [`webhook secret (verifies X-Topicdesk-Signature): ${token.webhookSecret}`] : []),
    ],
    token.token,
  );
};

/** tg-support-bot v3's `app:generate-token <source> [url]`: creates the source when it is new. */
export const generateTokenCommand = async (ctx: Context, code: string, webhookUrl: string | undefined) => {
  await freshSources(ctx);
  const { rowCount } = await ctx.db.pool
    .query('SELECT 1 FROM rm_sources WHERE code = $1', [code])
    .catch(() => ({ rowCount: 0 }));
  if (!rowCount) return createSourceCommand(ctx, code, webhookUrl);
  if (webhookUrl !== undefined)
    await runSourceCommand(ctx.log, code, { type: 'ChangeSourceWebhook', webhookUrl: checkUrl(webhookUrl) });
  return createTokenCommand(ctx, code);
};

export const createTokenCommand = async (ctx: Context, code: string) => {
  const token = await issueToken(ctx.log, code);
  printToken([`new token for source ${code}`, `token id: ${token.tokenId}`], token.token);
};

export const revokeTokenCommand = async (ctx: Context, tokenId: string) => {
  await freshSources(ctx);
  const { rows } = await ctx.db.pool.query<{ source_code: string }>(
    'SELECT source_code FROM rm_source_tokens WHERE token_id = $1',
    [tokenId],
  );
  const code = rows[0]?.source_code;
  if (!code) throw new Error(`no token ${tokenId} (see sources:list)`);
  await runSourceCommand(ctx.log, code, { type: 'RevokeToken', tokenId });
  console.log(`token ${tokenId} of source ${code} revoked`);
};

export const listSourcesCommand = async (ctx: Context, json: boolean) => {
  await freshSources(ctx);
  const { rows } = await ctx.db.pool.query<{
    code: string;
    webhook_url: string | null;
    created_at: Date;
    tokens: string | null;
  }>(
    `SELECT s.code, s.webhook_url, s.created_at,
       string_agg(t.token_id || CASE WHEN t.revoked_at IS NULL THEN '' ELSE ' (revoked)' END, ', ' ORDER BY t.created_at) AS tokens
     FROM rm_sources s LEFT JOIN rm_source_tokens t ON t.source_code = s.code GROUP BY s.code, s.webhook_url, s.created_at ORDER BY s.code`,
  );
  if (json) console.log(JSON.stringify(rows, null, 2));
  else if (rows.length === 0)
    console.log('no sources yet: npx topicdesk sources:create <code> [--webhook-url URL]');
  else
    console.table(
      rows.map((r) => ({
        code: r.code,
        webhook: r.webhook_url ?? '(polling)',
        created: r.created_at.toISOString(),
        tokens: r.tokens ?? '',
      })),
    );
};
