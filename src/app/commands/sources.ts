// sources:create, app:generate-token (tg-support-bot's name), tokens:create, tokens:revoke, sources:list,
// sources:rotate-webhook-secret

import { compatLabel, parseCompat } from '../../adapters/api/compat/dialect.ts';
import { sqlDatabase } from '../../adapters/postgres/sql.ts';
import {
  changeSourceCompat,
  changeSourceWebhook,
  createSource,
  issueToken,
  readSource,
  rotateWebhookSecret,
  runSourceCommand,
} from '../../adapters/sources/sources.ts';
import {
  type CheckedWebhookUrl,
  checkWebhookUrl,
  WebhookAddressError,
} from '../../adapters/webhooks/address-guard.ts';
import type { SourceCompat } from '../../domain/source.ts';
import { sourcesProjection } from '../../projections/read-models/sources.ts';
import { catchUpProjection } from '../../projections/runner.ts';
import type { Context } from '../context.ts';

/** The read model may be behind when the service is not running: bring it up to date first. */
const freshSources = (ctx: Context) =>
  catchUpProjection({ db: sqlDatabase(ctx.db.pool), log: ctx.log, projection: sourcesProjection });

/** The URL checked against WEBHOOK_ALLOW_PRIVATE; a refusal names the option it came from. */
const checkUrl = async (
  ctx: Context,
  url: string | undefined,
  option = '--webhook-url',
): Promise<CheckedWebhookUrl | null> => {
  if (!url) return null;
  try {
    return await checkWebhookUrl(url, ctx.config.WEBHOOK_ALLOW_PRIVATE);
  } catch (error) {
    if (error instanceof WebhookAddressError) throw new Error(`${option} ${error.message}`);
    throw error;
  }
};

/** The token goes alone on the last line, so scripts can take it with `tail -n 1`. */
const printToken = (lines: string[], token: string) => {
  for (const line of lines) console.log(line);
  console.log('The token is shown only this once; store it now.');
  console.log(token);
};

export const createSourceCommand = async (
  ctx: Context,
  code: string,
  webhookUrl: string | undefined,
  compatText?: string,
  timeZone?: string,
) => {
  const compat = compatText === undefined ? undefined : parseCompat(compatText, timeZone);
  const checked = await checkUrl(ctx, webhookUrl);
  const token = await createSource(ctx.log, code, checked, 'cli', compat);
  printToken(
    [
      `source ${code} created${checked ? `, webhooks to ${checked}` : ' (no webhook: poll GET /api/external/messages)'}`,
      ...(compat ? [`speaks ${compatLabel(compat)} (dates in ${compat.timeZone})`] : []),
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
    await changeSourceWebhook(ctx.log, code, await checkUrl(ctx, webhookUrl, 'the webhook URL'));
  return createTokenCommand(ctx, code);
};

/** sources:compat <code> <dialect|none>. */
export const changeCompatCommand = async (ctx: Context, code: string, dialect: string, timeZone?: string) => {
  const compat = dialect === 'none' ? null : parseCompat(dialect, timeZone);
  const source = await readSource(ctx.log, code);
  if (!source.registered) throw new Error(`no source ${code} (see sources:list)`);
  await changeSourceCompat(ctx.log, code, compat);
  console.log(
    compat
      ? `source ${code} speaks ${compatLabel(compat)} (dates in ${compat.timeZone})`
      : `source ${code} speaks topicdesk's own API`,
  );
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
    compat: SourceCompat | null;
  }>(
    `SELECT s.code, s.webhook_url, s.created_at, to_jsonb(s) -> 'compat' AS compat,
       string_agg(t.token_id || CASE WHEN t.revoked_at IS NULL THEN '' ELSE ' (revoked)' END, ', ' ORDER BY t.created_at) AS tokens
     FROM rm_sources s LEFT JOIN rm_source_tokens t ON t.source_code = s.code GROUP BY s.code, s.webhook_url, s.created_at, to_jsonb(s) -> 'compat' ORDER BY s.code`,
  );
  if (json) console.log(JSON.stringify(rows, null, 2));
  else if (rows.length === 0)
    console.log('no sources yet: npx topicdesk sources:create <code> [--webhook-url URL]');
  else
    console.table(
      rows.map((r) => ({
        code: r.code,
        webhook: r.webhook_url ?? '(polling)',
        api: r.compat ? `${compatLabel(r.compat)} (${r.compat.timeZone})` : 'topicdesk',
        created: r.created_at.toISOString(),
        tokens: r.tokens ?? '',
      })),
    );
};

/** `30s`, `15m`, `24h`, `7d` or `0` (no grace) → milliseconds; at most 30 days. */
export const parseGrace = (text: string): number => {
  const m = /^(\d+)(s|m|h|d)?$/.exec(text.trim());
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
  const ms = m ? Number(m[1]) * unit[(m[2] ?? 's') as keyof typeof unit] : Number.NaN;
  if (!(ms >= 0 && ms <= 30 * 86_400_000))
    throw new Error(`--grace must be a duration up to 30d, e.g. 24h, 90m or 0 (got "${text}")`);
  return ms;
};

/** The new secret goes alone on the last line, like a token. */
export const rotateWebhookSecretCommand = async (ctx: Context, code: string, grace: string) => {
  const graceMs = parseGrace(grace);
  const source = await readSource(ctx.log, code);
  if (!source.registered) throw new Error(`no source ${code} (see sources:list)`);
  const rotated = await rotateWebhookSecret(ctx.log, code, graceMs);
  console.log(`webhook secret of source ${code} rotated`);
  console.log(
    graceMs > 0
      ? `until ${rotated.previousValidUntil} every webhook is signed with both secrets (two v1= entries in X-Topicdesk-Signature); then only with the new one`
      : 'the previous secret no longer signs',
  );
  if (!source.webhookUrl) console.log('(the source has no webhook URL: the secret signs once it has one)');
  console.log('The new webhook secret is shown only this once; store it now.');
  console.log(rotated.webhookSecret);
};
