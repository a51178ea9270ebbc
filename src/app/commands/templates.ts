// templates:set, templates:list, templates:remove: the saved answers managers send with `/t <name>`
// (docs/design.md, "Notes and saved answers"). Each change is recorded with the actor `system:cli`
// and the operating-system user who ran it.
import { userInfo } from 'node:os';
import { changeTemplates, createTemplatesStore, listTemplates } from '../../adapters/settings/templates.ts';
import type { Actor } from '../../domain/events.ts';
import type { TemplateCommand } from '../../domain/settings/templates.ts';
import { SettingsError } from '../../domain/settings.ts';
import type { Context } from '../context.ts';
import { DEFAULT_TEMPLATE_LOCALE } from './options.ts';

const cliActor = (): Actor => {
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    // No user entry (a container's arbitrary uid): the actor is the CLI alone.
  }
  return { kind: 'system', id: 'cli', ...(name ? { name } : {}) };
};

/** The option or argument the operator wrote, for a refusal's field. */
const cliField: Record<string, string> = { name: '<name>', locale: '--locale', text: '<text>' };

const change = async (ctx: Context, command: TemplateCommand) => {
  try {
    return await changeTemplates(createTemplatesStore(ctx.log), command, cliActor());
  } catch (error) {
    if (error instanceof SettingsError)
      throw new Error(`${cliField[error.field] ?? error.field}: ${error.message}`);
    throw error;
  }
};

const languages = (texts: Readonly<Record<string, string>>) => Object.keys(texts).sort().join(', ');

export const setTemplateCommand = async (ctx: Context, name: string, text: string, locale?: string) => {
  const command: TemplateCommand = {
    type: 'SetTemplateText',
    name,
    locale: locale ?? DEFAULT_TEMPLATE_LOCALE,
    text,
  };
  const { events, template } = await change(ctx, command);
  const t = template!;
  console.log(
    events.length === 0
      ? `saved answer ${t.name} v${t.version}: the ${command.locale} text is already this (nothing changed)`
      : `saved answer ${t.name} v${t.version}: ${command.locale} text set (languages: ${languages(t.texts)})`,
  );
};

export const removeTemplateCommand = async (ctx: Context, name: string, locale?: string) => {
  const { template } = await change(ctx, { type: 'RemoveTemplate', name, ...(locale ? { locale } : {}) });
  console.log(
    template
      ? `saved answer ${template.name} v${template.version}: ${locale} text removed (languages: ${languages(template.texts)})`
      : `saved answer ${name} removed`,
  );
};

const oneLine = (text: string, max = 60) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

export const listTemplatesCommand = async (ctx: Context, json: boolean) => {
  const templates = await listTemplates(ctx.log);
  if (json) {
    console.log(JSON.stringify({ templates }, null, 2));
    return;
  }
  if (templates.length === 0) {
    console.log('no saved answers yet (templates:set <name> <text> adds one)');
    return;
  }
  for (const t of templates) {
    const by = `${t.updatedBy.kind}:${t.updatedBy.id}${t.updatedBy.name ? ` (${t.updatedBy.name})` : ''}`;
    console.log(`${t.name}  v${t.version}  changed ${t.updatedAt} by ${by}`);
    for (const [locale, text] of Object.entries(t.texts).sort(([a], [b]) => a.localeCompare(b)))
      console.log(`  ${locale}  ${JSON.stringify(oneLine(text))}`);
  }
};
