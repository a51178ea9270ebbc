// import:tg-support-bot --from postgres://… [--dry-run] (docs/design.md, "Importing from tg-support-bot").
import { compatLabel, parseCompat } from '../../adapters/api/compat/dialect.ts';
import { sqlDatabase } from '../../adapters/postgres/sql.ts';
import type { SourceCompat } from '../../domain/source.ts';
import { sourcesProjection } from '../../projections/read-models/sources.ts';
import { catchUpProjection } from '../../projections/runner.ts';
import { ConfigError } from '../config.ts';
import type { Context } from '../context.ts';
import { type ImportReport, importTgSupportBot } from '../tg-support-bot-import/import.ts';
import { openOldDatabase } from '../tg-support-bot-import/old-database.ts';
import { addressOf, progressBar } from './log.ts';

export interface ImportCommandOptions {
  readonly from: string;
  readonly dryRun?: boolean;
  readonly groupChatId?: string;
  readonly timeZone: string;
  /** `tg-support-bot@N`: the imported sources speak that version's API (its dates in `timeZone`). */
  readonly compat?: string;
}

const POSTGRES_URL = /^postgres(ql)?:\/\//;

const yesNo = (b: boolean) => (b ? 'yes' : 'no');

/** What was (or would be) written, and every row left behind with why. */
export const formatImportReport = (r: ImportReport, dryRun: boolean): string[] => {
  const lines: string[] = [];
  const verb = dryRun ? 'to append' : 'appended';
  lines.push(`sources: ${r.sources.length}`);
  for (const s of r.sources) {
    const outcome = dryRun && s.outcome === 'created' ? 'would be created' : s.outcome;
    lines.push(
      `  ${s.code}${s.name === s.code ? '' : ` (tg-support-bot: ${s.name})`}: ${outcome}${s.why ? ` — ${s.why}` : ''}` +
        (s.outcome === 'skipped'
          ? ''
          : `, ${s.webhookUrl ? `webhooks to ${s.webhookUrl}` : 'no webhook (polls the API)'}` +
            `, speaks ${s.compat ? `${compatLabel(s.compat)} (dates in ${s.compat.timeZone})` : "topicdesk's own API"}`),
    );
    if (s.webhookSecret)
      lines.push(
        `    webhook secret (signs X-Topicdesk-Signature; receivers written for tg-support-bot may ignore it): ${s.webhookSecret}`,
      );
    for (const t of s.tokens)
      lines.push(
        `    token ${t.tokenId} (external_source_access_tokens ${t.rowId}): ${t.added ? (dryRun ? 'would be imported' : 'imported') : 'imported before'}` +
          ` — it was stored in plain text: rotate it (npx topicdesk tokens:create ${s.code}, then tokens:revoke ${t.tokenId})`,
      );
  }
  lines.push('conversations:');
  for (const [channel, c] of Object.entries(r.conversations))
    lines.push(
      `  ${channel.padEnd(8)} ${c.created} ${dryRun ? 'to create' : 'created'}, ${c['topped-up']} ${dryRun ? 'to top up' : 'topped up'}, ${c.unchanged} unchanged, ${c.skipped} skipped`,
    );
  const types = Object.entries(r.events);
  lines.push(
    `events ${verb}: ${types.length === 0 ? 'none' : types.map(([t, n]) => `${t} ${n}`).join(', ')}`,
  );
  for (const s of r.skipped) lines.push(`  skipped bot_users ${s.botUserId}: ${s.why}`);
  lines.push(`not imported: ${r.unmapped.length === 0 ? 'nothing' : `${r.unmapped.length} rows`}`);
  for (const u of r.unmapped) lines.push(`  ${u.table} ${u.id}: ${u.why}`);
  return lines;
};

export const importTgSupportBotCommand = async (ctx: Context, opts: ImportCommandOptions): Promise<void> => {
  if (!POSTGRES_URL.test(opts.from))
    throw new ConfigError('--from must be the tg-support-bot database as postgres://user:password@host/db');
  const groupChatId = opts.groupChatId ?? ctx.config.TELEGRAM_SUPPORT_CHAT_ID;
  if (!groupChatId || !/^-100\d+$/.test(groupChatId))
    throw new ConfigError(
      'TELEGRAM_SUPPORT_CHAT_ID (or --group-chat-id) must name the support group the old topics are in, e.g. -1001234567890',
    );
  let compat: SourceCompat | undefined;
  try {
    compat = opts.compat === undefined ? undefined : parseCompat(opts.compat, opts.timeZone);
  } catch (error) {
    throw new ConfigError(`--compat: ${(error as Error).message}`);
  }
  const dryRun = Boolean(opts.dryRun);
  const address = addressOf(opts.from);
  const old = await openOldDatabase(opts.from, opts.timeZone).catch((error: unknown) => {
    throw new Error(`cannot read ${address}: ${(error as Error).message}`, { cause: error });
  });
  const bar = progressBar('import', 'clients');
  try {
    const l = old.layout;
    console.log(
      `import:tg-support-bot: reading ${address} in a read-only transaction${dryRun ? ' (dry run: nothing is written)' : ''}`,
    );
    console.log(
      `layout: messages.text ${yesNo(l.messageText)}, message_attachments ${yesNo(l.attachments)}, ` +
        `bot_users.is_banned ${yesNo(l.botUsers.banned)}, bot_users.is_closed ${yesNo(l.botUsers.closed)}, ` +
        `external_messages ${yesNo(l.externalMessages !== null)}, external_sources ${yesNo(l.externalSources)}; ` +
        `times read as ${opts.timeZone}`,
    );
    const report = await importTgSupportBot({
      old,
      log: ctx.log,
      groupChatId,
      titleTemplate: ctx.config.TOPIC_TITLE_TEMPLATE,
      webhookPolicy: ctx.config.WEBHOOK_ALLOW_PRIVATE,
      dryRun,
      ...(compat ? { compat } : {}),
      onStart: ({ clients }) => bar.start(clients, 0),
      onClient: (n) => bar.update(n),
    });
    bar.stop();
    if (!dryRun)
      await catchUpProjection({ db: sqlDatabase(ctx.db.pool), log: ctx.log, projection: sourcesProjection });
    for (const line of formatImportReport(report, dryRun)) console.log(line);
    console.log(
      dryRun
        ? 'dry run: nothing was written. Run again without --dry-run to import.'
        : "done. Running it again appends only what is new. Point the channels and the sources' integrations at topicdesk, and rotate the imported tokens.",
    );
  } finally {
    bar.stop();
    await old.close();
  }
};
