// tg-support-bot's variable names, read as topicdesk's own so a team can switch with its old .env
// (docs/design.md, "Settings under tg-support-bot's names"). The new name wins; both set to
// different values is refused, since either could be the one meant.

/** Old name → topicdesk's name. */
export const LEGACY_ALIASES: Readonly<Record<string, string>> = {
  TELEGRAM_TOKEN: 'TELEGRAM_BOT_TOKEN',
  TELEGRAM_GROUP_ID: 'TELEGRAM_SUPPORT_CHAT_ID',
  TELEGRAM_SECRET_KEY: 'TELEGRAM_WEBHOOK_SECRET',
  VK_CONFIRM_CODE: 'VK_CONFIRMATION',
  VK_SECRET_CODE: 'VK_SECRET',
  TELEGRAM_TOPIC_NAME: 'TOPIC_TITLE_TEMPLATE',
  // Its name in tg-support-bot's older README and test settings.
  TEMPLATE_TOPIC_NAME: 'TOPIC_TITLE_TEMPLATE',
};

export interface AliasedEnv {
  readonly env: NodeJS.ProcessEnv;
  /** One line per old name in use, naming the new one. */
  readonly notices: readonly string[];
  /** topicdesk's name → the old name its value came from. */
  readonly from: Readonly<Record<string, string>>;
  /** Old and new name set to different values (the first such pair), to be refused. */
  readonly conflict?: { readonly old: string; readonly current: string };
}

const set = (value: string | undefined): value is string => value !== undefined && value !== '';

export const withLegacyAliases = (env: NodeJS.ProcessEnv): AliasedEnv => {
  const out: NodeJS.ProcessEnv = { ...env };
  const notices: string[] = [];
  const from: Record<string, string> = {};
  let conflict: AliasedEnv['conflict'];
  for (const [old, current] of Object.entries(LEGACY_ALIASES)) {
    const value = env[old];
    if (!set(value)) continue;
    if (set(out[current]) && out[current] !== value) {
      conflict ??= { old, current };
      continue;
    }
    if (!set(out[current])) {
      out[current] = value;
      from[current] = old;
    }
    notices.push(`${old} is tg-support-bot's name for ${current}: read as ${current}; rename it`);
  }
  return { env: out, notices, from, ...(conflict ? { conflict } : {}) };
};
