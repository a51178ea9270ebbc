// `npx topicdesk <command>` / `npm run cli -- <command>` (SPEC §7). Each command lives in
// src/app/commands/; this file only declares them.
import { Command, CommanderError } from 'commander';
import dotenv from 'dotenv';
import { type HistoryOptions, historyCommand, parseAtOption } from './app/commands/history.ts';
import { printProjectionStatus, rebuildProjections } from './app/commands/projections.ts';
import { ConfigError } from './app/config.ts';
import { openContext } from './app/context.ts';
import { allProjections } from './projections/index.ts';

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
  .description("a conversation's audit history: every event in order, or with --at its state at that moment")
  .argument(
    '<ref>',
    'conversation id (UUID), telegram:<clientId>, vk:<clientId> or external:<source>:<clientId>',
  )
  .option('--at <time>', 'show the conversation as it stood at this ISO 8601 time', parseAtOption)
  .option('--json', 'print JSON instead of text')
  .action((ref: string, options: HistoryOptions) => historyCommand(ref, options));

program
  .command('projections:status')
  .description("each projection's generation, checkpoint, the log's head and the lag")
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    const ctx = await openContext();
    try {
      await printProjectionStatus(ctx, Boolean(opts.json));
    } finally {
      await ctx.close();
    }
  });

program
  .command('projections:rebuild')
  .argument('[name]', `the projection to rebuild (${allProjections.map((p) => p.name).join(', ')})`)
  .option('--all', 'rebuild every projection')
  .description('build a new generation from the whole log beside the one in service, then swap it in')
  .action(async (name: string | undefined, opts: { all?: boolean }) => {
    const ctx = await openContext();
    try {
      await rebuildProjections(ctx, { name, all: opts.all });
    } finally {
      await ctx.close();
    }
  });

export const cli = program;

const run = async () => {
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode);
    if (error instanceof ConfigError) {
      console.error(`topicdesk: configuration error: ${error.message}`);
      process.exit(2);
    }
    console.error(`topicdesk: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
};

await run();
