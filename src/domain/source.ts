// A source: an external system (live chat, CRM, form) that writes through the HTTP API. Its stream
// `source-<code>` holds its registration, webhook and tokens. Tokens are stored only as hashes.

export interface SourceRegistered {
  readonly type: 'SourceRegistered';
  readonly data: {
    readonly code: string;
    readonly webhookUrl: string | null;
    readonly webhookSecret: string;
    /** Speaks another system's API dialect (docs/design.md, "Speaking tg-support-bot's dialect"). */
    readonly compat?: SourceCompat;
  };
}
/**
 * Another system's API dialect a source speaks: its paths, answers and webhooks. Old sources have
 * none (topicdesk's own API). `timeZone` is the IANA zone its dates are written and read in.
 */
export interface SourceCompat {
  readonly dialect: 'tg-support-bot';
  readonly version: number;
  readonly timeZone: string;
}
/** The dialect changed (null: topicdesk's own API again). */
export interface SourceCompatChanged {
  readonly type: 'SourceCompatChanged';
  readonly data: { readonly compat: SourceCompat | null };
}
export interface SourceWebhookChanged {
  readonly type: 'SourceWebhookChanged';
  readonly data: { readonly webhookUrl: string | null };
}
/**
 * A new webhook secret. The one it replaces still signs (beside it) until `previousValidUntil`, so
 * a receiver can switch secrets without refusing a delivery.
 */
export interface SourceWebhookSecretRotated {
  readonly type: 'SourceWebhookSecretRotated';
  readonly data: { readonly webhookSecret: string; readonly previousValidUntil: string };
}
export interface TokenIssued {
  readonly type: 'TokenIssued';
  readonly data: { readonly tokenId: string; readonly hash: string };
}
export interface TokenRevoked {
  readonly type: 'TokenRevoked';
  readonly data: { readonly tokenId: string };
}

export type SourceEvent =
  | SourceRegistered
  | SourceWebhookChanged
  | SourceCompatChanged
  | SourceWebhookSecretRotated
  | TokenIssued
  | TokenRevoked;

export type SourceCommand =
  | {
      readonly type: 'RegisterSource';
      readonly code: string;
      readonly webhookUrl: string | null;
      readonly webhookSecret: string;
      readonly compat?: SourceCompat;
    }
  | { readonly type: 'ChangeSourceWebhook'; readonly webhookUrl: string | null }
  | { readonly type: 'ChangeSourceCompat'; readonly compat: SourceCompat | null }
  | {
      readonly type: 'RotateWebhookSecret';
      readonly webhookSecret: string;
      /** ISO 8601; the previous secret signs too until then (now or earlier: not at all). */
      readonly previousValidUntil: string;
    }
  | { readonly type: 'IssueToken'; readonly tokenId: string; readonly hash: string }
  | { readonly type: 'RevokeToken'; readonly tokenId: string };

export interface SourceState {
  readonly registered: boolean;
  readonly code?: string;
  readonly webhookUrl: string | null;
  readonly webhookSecret?: string;
  readonly compat?: SourceCompat;
  /** The secret a rotation replaced, still signing until `previousValidUntil`. */
  readonly previousWebhookSecret?: string;
  readonly previousValidUntil?: string;
  readonly tokens: ReadonlyMap<string, { readonly hash: string; readonly revoked: boolean }>;
}

export const initialSourceState: SourceState = { registered: false, webhookUrl: null, tokens: new Map() };

export type SourceErrorCode =
  | 'source_exists'
  | 'source_not_found'
  | 'token_not_found'
  | 'token_revoked'
  | 'invalid_source_code';

export class SourceError extends Error {
  override readonly name = 'SourceError';
  constructor(
    readonly code: SourceErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Codes name streams and appear in URLs and topic titles: short, lower-case, no spaces. */
export const isValidSourceCode = (code: string): boolean => /^[a-z0-9][a-z0-9_-]{0,62}$/.test(code);

export const evolveSource = (state: SourceState, event: SourceEvent): SourceState => {
  switch (event.type) {
    case 'SourceRegistered':
      return {
        ...state,
        registered: true,
        code: event.data.code,
        webhookUrl: event.data.webhookUrl,
        webhookSecret: event.data.webhookSecret,
        ...(event.data.compat ? { compat: event.data.compat } : {}),
      };
    case 'SourceWebhookChanged':
      return { ...state, webhookUrl: event.data.webhookUrl };
    case 'SourceCompatChanged': {
      const { compat: _previous, ...rest } = state;
      return event.data.compat ? { ...rest, compat: event.data.compat } : rest;
    }
    case 'SourceWebhookSecretRotated': {
      const { webhookSecret: previous, ...rest } = state;
      return {
        ...rest,
        webhookSecret: event.data.webhookSecret,
        ...(previous ? { previousWebhookSecret: previous } : {}),
        previousValidUntil: event.data.previousValidUntil,
      };
    }
    case 'TokenIssued': {
      const tokens = new Map(state.tokens);
      tokens.set(event.data.tokenId, { hash: event.data.hash, revoked: false });
      return { ...state, tokens };
    }
    case 'TokenRevoked': {
      const token = state.tokens.get(event.data.tokenId);
      if (!token) return state;
      const tokens = new Map(state.tokens);
      tokens.set(event.data.tokenId, { ...token, revoked: true });
      return { ...state, tokens };
    }
    default: {
      const never: never = event;
      return never;
    }
  }
};

export const decideSource = (command: SourceCommand, state: SourceState): readonly SourceEvent[] => {
  if (command.type === 'RegisterSource') {
    if (!isValidSourceCode(command.code)) {
      throw new SourceError(
        'invalid_source_code',
        `"${command.code}" is not a source code: use a-z, 0-9, _ and - (at most 63)`,
      );
    }
    if (state.registered) throw new SourceError('source_exists', `source ${command.code} exists already`);
    return [
      {
        type: 'SourceRegistered',
        data: {
          code: command.code,
          webhookUrl: command.webhookUrl,
          webhookSecret: command.webhookSecret,
          ...(command.compat ? { compat: command.compat } : {}),
        },
      },
    ];
  }
  if (!state.registered) throw new SourceError('source_not_found', 'no such source');
  switch (command.type) {
    case 'ChangeSourceWebhook':
      return command.webhookUrl === state.webhookUrl
        ? []
        : [{ type: 'SourceWebhookChanged', data: { webhookUrl: command.webhookUrl } }];
    case 'ChangeSourceCompat':
      return JSON.stringify(command.compat) === JSON.stringify(state.compat ?? null)
        ? []
        : [{ type: 'SourceCompatChanged', data: { compat: command.compat } }];
    case 'RotateWebhookSecret':
      return [
        {
          type: 'SourceWebhookSecretRotated',
          data: { webhookSecret: command.webhookSecret, previousValidUntil: command.previousValidUntil },
        },
      ];
    case 'IssueToken':
      return state.tokens.has(command.tokenId)
        ? []
        : [{ type: 'TokenIssued', data: { tokenId: command.tokenId, hash: command.hash } }];
    case 'RevokeToken': {
      const token = state.tokens.get(command.tokenId);
      if (!token) throw new SourceError('token_not_found', `no token ${command.tokenId}`);
      if (token.revoked)
        throw new SourceError('token_revoked', `token ${command.tokenId} is revoked already`);
      return [{ type: 'TokenRevoked', data: { tokenId: command.tokenId } }];
    }
    default: {
      const never: never = command;
      return never;
    }
  }
};

/**
 * The secrets that sign a webhook sent at `at`: the current one, and during a rotation's grace
 * period the one it replaced (a secret rotated twice within a grace period drops the oldest).
 */
export const signingSecrets = (state: SourceState, at: Date): string[] => {
  if (!state.webhookSecret) return [];
  const previousValid =
    state.previousWebhookSecret &&
    state.previousValidUntil &&
    at.getTime() < Date.parse(state.previousValidUntil);
  return previousValid ? [state.webhookSecret, state.previousWebhookSecret!] : [state.webhookSecret];
};
