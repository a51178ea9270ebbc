// `npx topicdesk <command>` / `npm run cli -- <command>` (docs/design.md, "The command line"). Each
// command lives in src/app/commands/; this file only declares them.
import { Command, CommanderError } from 'commander';
import dotenv from 'dotenv';
import type { HistoryOptions } from './app/commands/history.ts';
import { DEFAULT_TEMPLATE_LOCALE, parseAtOption } from './app/commands/options.ts';
import type { ReportOptions } from './app/commands/report.ts';
import type { Context } from './app/context.ts';
import { allProjections } from './projections/index.ts';

// A command's module (and what it needs: the database driver, grammY, the config schema) is loaded
// when that command runs, not for every command and for --help (docs/design.md, "The command line").
const commands = {
  history: () => import('./app/commands/history.ts'),
  import: () => import('./app/commands/import.ts'),
  log: () => import('./app/commands/log.ts'),
  projections: () => import('./app/commands/projections.ts'),
  report: () => import('./app/commands/report.ts'),
  settings: () => import('./app/commands/settings.ts'),
  sources: () => import('./app/commands/sources.ts'),
  telegram: () => import('./app/commands/telegram.ts'),
  templates: () => import('./app/commands/templates.ts'),
};
const openContext = async () => (await import('./app/context.ts')).openContext();

const withContext = (work: (ctx: Context) => Promise<void>) => async () => {
  const ctx = await openContext();
  try {
    await work(ctx);
  } finally {
    await ctx.close();
  }
};

dotenv.config({ quiet: true });

const program = new Command('topicdesk')
  .description('topicdesk: support bridge between customers and Telegram forum topics')
  .showHelpAfterError()
  .exitOverride();

program
  .command('migrate')
  .description('create or update the database schema (the event log table and the read models)')
  .action(async () => {
    const ctx = await openContext();
    await ctx.close();
    console.log('database schema is up to date');
  });

program
  .command('history')
  .description(
    "a conversation's audit history: every event in order, or with --at its state at that moment; settings:<kind> lists a kind of settings' changes",
  )
  .argument(
    '<ref>',
    'conversation id (UUID), telegram:<clientId>, vk:<clientId> or external:<source>:<clientId>; or settings:texts, settings:hours',
  )
  .option('--at <time>', 'show the conversation as it stood at this ISO 8601 time', parseAtOption)
  .option('--json', 'print JSON instead of text')
  .action(async (ref: string, options: HistoryOptions) =>
    (await commands.history()).historyCommand(ref, options),
  );

program
  .command('projections:status')
  .description("each projection's generation, checkpoint, the log's head and the lag")
  .option('--json', 'print JSON')
  .action((opts: { json?: boolean }) =>
    withContext(async (ctx) =>
      (await commands.projections()).printProjectionStatus(ctx, Boolean(opts.json)),
    )(),
  );

program
  .command('projections:rebuild')
  .argument('[name]', `the projection to rebuild (${allProjections.map((p) => p.name).join(', ')})`)
  .option('--all', 'rebuild every projection')
  .description('build a new generation from the whole log beside the one in service, then swap it in')
  .action((name: string | undefined, opts: { all?: boolean }) =>
    withContext(async (ctx) =>
      (await commands.projections()).rebuildProjections(ctx, { name, all: opts.all }),
    )(),
  );

program
  .command('log:migrate')
  .requiredOption('--to <log>', 'the log to copy into: esdb (EventStoreDB / KurrentDB)')
  .option('--eventstore-url <url>', 'the server to copy into (default: EVENTSTORE_URL)')
  .option('--force', 'run although the app seems to be running (it holds its leader locks)')
  .description(
    'copy the PostgreSQL log into an empty EventStoreDB / KurrentDB (resumable), verify it and move the checkpoints there; the app must be stopped',
  )
  .action(async (opts: { to: string; eventstoreUrl?: string; force?: boolean }) =>
    (await commands.log()).logMigrateCommand(opts),
  );

program
  .command('log:reset')
  .option('--yes', 'really: rebuild every projection and start the reactors at the head of the log')
  .description(
    'start afresh on the configured log (EVENT_STORE): rebuild every projection from it, reactors at its head',
  )
  .action(async (opts: { yes?: boolean }) => (await commands.log()).logResetCommand(opts));

program
  .command('import:tg-support-bot')
  .requiredOption('--from <url>', "tg-support-bot's PostgreSQL database (postgres://…), read only")
  .option('--dry-run', 'print what would be imported and every row that cannot be, and write nothing')
  .option(
    '--group-chat-id <id>',
    'the support group the old topics are in (default: TELEGRAM_SUPPORT_CHAT_ID)',
  )
  .option(
    '--time-zone <zone>',
    "the time zone tg-support-bot wrote its times in (its app's)",
    'Europe/Moscow',
  )
  .option(
    '--compat <dialect>',
    "imported sources keep tg-support-bot's API: tg-support-bot@3, @4, @5 or @6 (the version their integrations were written for)",
  )
  .description(
    "bring tg-support-bot's clients over with their topics, bans, closes, message history and sources (tokens too); safe to run again",
  )
  .action(
    (opts: { from: string; dryRun?: boolean; groupChatId?: string; timeZone: string; compat?: string }) =>
      withContext(async (ctx) => (await commands.import()).importTgSupportBotCommand(ctx, opts))(),
  );

program
  .command('sources:create')
  .argument('<code>', 'a short name for the source, e.g. livechat (a-z, 0-9, _ and -)')
  .option('--webhook-url <url>', "where managers' answers are POSTed (signed); without it the source polls")
  .option('--compat <dialect>', "speak tg-support-bot's API: tg-support-bot@3, @4, @5 or @6")
  .option('--time-zone <zone>', "the dialect's dates' time zone (default Europe/Moscow)")
  .description('register an external source and print its first API token (once, alone on the last line)')
  .action((code: string, opts: { webhookUrl?: string; compat?: string; timeZone?: string }) =>
    withContext(async (ctx) =>
      (await commands.sources()).createSourceCommand(ctx, code, opts.webhookUrl, opts.compat, opts.timeZone),
    )(),
  );

// tg-support-bot's dialect for an existing source (docs/design.md, "Speaking tg-support-bot's dialect").
program
  .command('sources:compat')
  .argument('<code>', 'the source')
  .argument('<dialect>', "tg-support-bot@3, @4, @5 or @6; or none for topicdesk's own API")
  .option('--time-zone <zone>', "the dialect's dates' time zone (default Europe/Moscow)")
  .description("make a source's API and webhooks speak another system's dialect, or its own again")
  .action((code: string, dialect: string, opts: { timeZone?: string }) =>
    withContext(async (ctx) =>
      (await commands.sources()).changeCompatCommand(ctx, code, dialect, opts.timeZone),
    )(),
  );

program
  .command('sources:rotate-webhook-secret')
  .argument('<code>', 'the source')
  .option(
    '--grace <duration>',
    'how long the old secret still signs beside the new one (e.g. 24h, 90m, 0)',
    '24h',
  )
  .description(
    'give a source a new webhook secret (printed once, alone on the last line); both sign during the grace period',
  )
  .action((code: string, opts: { grace: string }) =>
    withContext(async (ctx) =>
      (await commands.sources()).rotateWebhookSecretCommand(ctx, code, opts.grace),
    )(),
  );

program
  .command('app:generate-token')
  .argument('<code>', 'the source')
  .argument('[url]', 'its webhook URL')
  .description("tg-support-bot v3's command: creates the source if it is new, then prints a new token")
  .action((code: string, url: string | undefined) =>
    withContext(async (ctx) => (await commands.sources()).generateTokenCommand(ctx, code, url))(),
  );

program
  .command('tokens:create')
  .argument('<code>', 'the source')
  .description('issue another token for a source (printed once, alone on the last line)')
  .action((code: string) =>
    withContext(async (ctx) => (await commands.sources()).createTokenCommand(ctx, code))(),
  );

program
  .command('tokens:revoke')
  .argument('<id>', 'the token id (sources:list shows them)')
  .description('revoke a token: requests with it get 401 from then on')
  .action((id: string) =>
    withContext(async (ctx) => (await commands.sources()).revokeTokenCommand(ctx, id))(),
  );

program
  .command('sources:list')
  .option('--json', 'print JSON')
  .description('sources, their webhooks and token ids')
  .action((opts: { json?: boolean }) =>
    withContext(async (ctx) => (await commands.sources()).listSourcesCommand(ctx, Boolean(opts.json)))(),
  );

program
  .command('templates:set')
  .argument('<name>', 'the saved answer, as managers type it after /t (a-z, 0-9, _ and -)')
  .argument(
    '<text...>',
    'its text; may use {client_name}, {client_username}, {client_id}, {manager_name}, {source}, {channel}, {conversation_id}',
  )
  .option('--locale <locale>', 'the language of the text (en, ru)', DEFAULT_TEMPLATE_LOCALE)
  .description("set a saved answer's text in one language (a new name makes a new saved answer)")
  .action((name: string, text: string[], opts: { locale: string }) =>
    withContext(async (ctx) =>
      (await commands.templates()).setTemplateCommand(ctx, name, text.join(' '), opts.locale),
    )(),
  );

program
  .command('templates:list')
  .option('--json', 'print JSON')
  .description('the saved answers: name, version, who changed them last, their texts per language')
  .action((opts: { json?: boolean }) =>
    withContext(async (ctx) => (await commands.templates()).listTemplatesCommand(ctx, Boolean(opts.json)))(),
  );

program
  .command('templates:remove')
  .argument('<name>', 'the saved answer')
  .option('--locale <locale>', 'remove only the text in this language (its last text removes it all)')
  .description('remove a saved answer, or one language of it')
  .action((name: string, opts: { locale?: string }) =>
    withContext(async (ctx) => (await commands.templates()).removeTemplateCommand(ctx, name, opts.locale))(),
  );

program
  .command('texts:list')
  .option('--locale <locale>', 'only this language (en, ru)')
  .option('--json', 'print JSON')
  .description(
    'every text the bot writes, per language: the override, the shipped text, or what it falls back to',
  )
  .action((opts: { locale?: string; json?: boolean }) =>
    withContext(async (ctx) => (await commands.settings()).listTextsCommand(ctx, opts))(),
  );

program
  .command('texts:set')
  .argument('<locale>', 'the language: en or ru')
  .argument('<key>', 'the text key (texts:list shows them), e.g. client.closed or client.welcome.telegram')
  .argument('<text>', 'the new text; {variables} as texts:list names them')
  .description(
    "override a text in one language (checked against the key's variables; recorded with actor system:cli)",
  )
  .action((locale: string, key: string, text: string) =>
    withContext(async (ctx) => (await commands.settings()).setTextCommand(ctx, locale, key, text))(),
  );

program
  .command('texts:remove')
  .argument('<locale>', 'the language: en or ru')
  .argument('<key>', 'the text key')
  .description('remove an override: the shipped text is used again')
  .action((locale: string, key: string) =>
    withContext(async (ctx) => (await commands.settings()).removeTextCommand(ctx, locale, key))(),
  );

program
  .command('hours:show')
  .option('--json', 'print the schedule as JSON (the form hours:set takes)')
  .description('the working hours, and whether support is open now')
  .action((opts: { json?: boolean }) =>
    withContext(async (ctx) => (await commands.settings()).showHoursCommand(ctx, opts))(),
  );

program
  .command('hours:set')
  .argument(
    '<file>',
    'a JSON file {"time_zone", "weekly", "exceptions"} (see the README), or - for standard input',
  )
  .description('set the working hours: outside them a client gets one automatic answer per off-period')
  .action((file: string) =>
    withContext(async (ctx) => (await commands.settings()).setHoursCommand(ctx, file))(),
  );

program
  .command('hours:clear')
  .description('remove the working hours: support is never off hours')
  .action(() => withContext(async (ctx) => (await commands.settings()).clearHoursCommand(ctx))());

program
  .command('report')
  .description(
    'response times for a period: first response, every response, resolution (count, median, p90, max), by manager, assignee, source, channel or day',
  )
  .option(
    '--from <date>',
    'start: a date (midnight in the zone) or an ISO 8601 time (default: 7 days before --to)',
  )
  .option('--to <date>', 'end, exclusive (default: the end of today)')
  .option('--by <grouping>', 'manager, assignee, source, channel or day', 'day')
  .option(
    '--time-zone <zone>',
    "IANA zone of the dates and days (default: the working hours' zone, else UTC)",
  )
  .option('--csv', 'print CSV (seconds) instead of a table')
  .action((opts: ReportOptions) =>
    withContext(async (ctx) => (await commands.report()).reportCommand(ctx, opts))(),
  );

program
  .command('telegram:set-webhook')
  .description(
    'point the bot at PUBLIC_URL/webhooks/telegram with TELEGRAM_WEBHOOK_SECRET (message and edited_message updates)',
  )
  .option('--drop-pending', 'drop the updates Telegram holds for the bot instead of delivering them')
  .action(async (opts: { dropPending?: boolean }) => (await commands.telegram()).setWebhookCommand(opts));

program
  .command('telegram:delete-webhook')
  .description("remove the bot's webhook (updates then wait for getUpdates, TELEGRAM_MODE=polling)")
  .option('--drop-pending', 'drop the updates Telegram holds for the bot')
  .action(async (opts: { dropPending?: boolean }) => (await commands.telegram()).deleteWebhookCommand(opts));

program
  .command('telegram:check')
  .description(
    "check the bot token, that the group is a forum, the bot's admin rights, privacy mode and the webhook",
  )
  .action(async () => {
    process.exitCode = await (await commands.telegram()).checkCommand();
  });

export const cli = program;

const run = async () => {
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode);
    if ((error as { code?: unknown }).code === 'invalid_config') {
      console.error(`topicdesk: configuration error: ${(error as Error).message}`);
      process.exit(2);
    }
    // A command's error may quote a secret (a URL with the bot token, a connection string).
    const { createRedactor } = await import('./adapters/logging/redact.ts');
    const { configuredSecrets } = await import('./app/config-secrets.ts');
    const redact = createRedactor(configuredSecrets(process.env));
    console.error(`topicdesk: ${redact(error instanceof Error ? error.message : String(error))}`);
    process.exit(1);
  }
};

await run();
