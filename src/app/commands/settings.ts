// texts:list, texts:set, texts:remove, hours:show, hours:set, hours:clear: operators' settings,
// recorded in the log with the actor system:cli (docs/design.md, "Settings streams").
import { readFile } from 'node:fs/promises';
import { hoursField, hoursFromJson, hoursToJson } from '../../adapters/settings/hours-format.ts';
import { formatOpening, hoursAt } from '../../adapters/settings/schedule.ts';
import type { Actor } from '../../domain/events.ts';
import { type WorkingHours, weekdays } from '../../domain/settings/hours.ts';
import { SettingsError } from '../../domain/settings.ts';
import { type Locale, locales } from '../../texts/catalogue.ts';
import { listTexts } from '../../texts/listing.ts';
import type { Context } from '../context.ts';
import { openSettings } from '../settings.ts';

export const CLI_ACTOR: Actor = { kind: 'system', id: 'cli' };

/** A refused change as one line naming what was wrong (the CLI prints it and exits with 1). */
const refused = (error: unknown, prefix = ''): never => {
  if (error instanceof SettingsError) throw new Error(`${prefix}${error.message}`);
  throw error;
};

const settingsOf = (ctx: Context) => openSettings(ctx.log, ctx.config, ctx.logger);

export const parseLocaleOption = (value: string | undefined): Locale | undefined => {
  if (value === undefined) return undefined;
  if (!(locales as readonly string[]).includes(value)) {
    throw new Error(`--locale must be one of ${locales.join(', ')} (got "${value}")`);
  }
  return value as Locale;
};

export const listTextsCommand = async (ctx: Context, opts: { locale?: string; json?: boolean }) => {
  const locale = parseLocaleOption(opts.locale);
  const { state } = await settingsOf(ctx).textSettings.fresh();
  const rows = listTexts(state.overrides, {
    defaultLocale: ctx.config.LOCALE,
    ...(locale ? { locale } : {}),
  });
  if (opts.json) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  for (const r of rows) {
    const vars = r.vars.length ? `  {${r.vars.join('}, {')}}` : '';
    console.log(`${r.locale}  ${r.key}  (${r.origin})${vars}\n    ${JSON.stringify(r.text)}`);
  }
};

export const setTextCommand = async (ctx: Context, locale: string, key: string, text: string) => {
  const { events } = await settingsOf(ctx)
    .textSettings.change({ type: 'SetTextOverride', locale, key, text }, CLI_ACTOR)
    .catch((e: unknown) => refused(e));
  console.log(events.length > 0 ? `text ${key} (${locale}) set` : `text ${key} (${locale}) already reads so`);
};

export const removeTextCommand = async (ctx: Context, locale: string, key: string) => {
  await settingsOf(ctx)
    .textSettings.change({ type: 'RemoveTextOverride', locale, key }, CLI_ACTOR)
    .catch((e: unknown) => refused(e));
  console.log(`text ${key} (${locale}) is the shipped one again`);
};

const describeHours = (hours: WorkingHours, locale: Locale, now: Date): string[] => {
  const state = hoursAt(hours, now);
  const status = state.open
    ? 'open now'
    : `closed now${state.since ? ` (since ${state.since.toISOString()})` : ''}${
        state.opensAt
          ? `; opens ${formatOpening(state.opensAt, hours, locale)}`
          : '; no opening within 400 days'
      }`;
  return [
    `time zone: ${hours.timeZone}`,
    ...weekdays.map((d) => `${d}: ${hours.weekly[d]?.join(', ') || 'closed'}`),
    ...hours.exceptions.map(
      (e) => `${e.date}: ${e.hours.join(', ') || 'closed'}${e.note ? `  (${e.note})` : ''}`,
    ),
    status,
  ];
};

export const showHoursCommand = async (ctx: Context, opts: { json?: boolean }) => {
  const { state } = await settingsOf(ctx).hours.fresh();
  if (opts.json) {
    console.log(JSON.stringify(state.hours ? hoursToJson(state.hours) : null, null, 2));
    return;
  }
  if (!state.hours) {
    console.log('no working hours set: support is never off hours (hours:set <file> sets them)');
    return;
  }
  for (const line of describeHours(state.hours, ctx.config.LOCALE, new Date())) console.log(line);
};

/** `hours:set <file>`: a JSON file (`-`: standard input) in the admin API's form. */
export const setHoursCommand = async (ctx: Context, file: string) => {
  const text = await (file === '-' ? readStdin() : readFile(file, 'utf8')).catch((error: unknown) => {
    throw new Error(`${file}: cannot be read (${(error as Error).message})`);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not JSON (${(error as Error).message})`);
  }
  const { events, view } = await (async () => {
    try {
      return await settingsOf(ctx).hours.change(
        { type: 'SetWorkingHours', hours: hoursFromJson(json) },
        CLI_ACTOR,
      );
    } catch (error) {
      if (error instanceof SettingsError) {
        const field = hoursField(error.field);
        throw new Error(
          `${file}: ${field && !error.message.startsWith(field) ? `${field}: ` : ''}${error.message}`,
        );
      }
      throw error;
    }
  })();
  console.log(events.length > 0 ? 'working hours set' : 'working hours already read so');
  for (const line of describeHours(view.state.hours!, ctx.config.LOCALE, new Date())) console.log(line);
};

export const clearHoursCommand = async (ctx: Context) => {
  await settingsOf(ctx)
    .hours.change({ type: 'ClearWorkingHours' }, CLI_ACTOR)
    .catch((e: unknown) => refused(e));
  console.log('working hours cleared: support is never off hours');
};

const readStdin = async (): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};
