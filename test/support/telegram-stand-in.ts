// A local stand-in of the Telegram Bot API for tests: a real HTTP server on 127.0.0.1 that grammY
// (or anything else) talks to through `apiRoot`. It keeps chats, forum topics, messages and files,
// answers with Telegram's result objects and Telegram's errors (status codes and descriptions),
// and lets a test inject faults, limits and incoming updates.
//
//   const tg = await startTelegramStandIn();
//   const bot = new Bot(tg.token, { client: { apiRoot: tg.apiRoot }, botInfo: tg.botInfo });
//   const alice = tg.addUser({ first_name: 'Alice', username: 'alice' });
//   tg.queueUpdate(tg.privateMessage(alice, { text: 'hello' }));
//   ...
//   await tg.close();
//
// Simplified on purpose: media bytes are stored as uploaded (photos are not re-encoded, though their
// file_path ends in .jpg as Telegram's does), video/audio metadata comes from the call's parameters,
// inline mode, payments, business and channels are absent, setWebhook accepts http:// URLs and any
// port, and updates reach the app only through queueUpdate (getUpdates) or deliver (webhook).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  Chat,
  InlineKeyboardButton,
  Message,
  ReactionType,
  ResponseParameters,
  Update,
  UserFromGetMe,
} from 'grammy/types';
import { TelegramApiError, tooManyRequests } from './telegram-stand-in/errors.ts';
import {
  Described,
  findMethod,
  type Press,
  type StandInEnv,
  type WebhookState,
} from './telegram-stand-in/methods.ts';
import { UpdateQueue } from './telegram-stand-in/queue.ts';
import { Args, parseRequest } from './telegram-stand-in/request.ts';
import { UpdateBuilders } from './telegram-stand-in/updates.ts';
import { type BotRights, type ChatState, World } from './telegram-stand-in/world.ts';

export { TelegramApiError } from './telegram-stand-in/errors.ts';
export type { Press } from './telegram-stand-in/methods.ts';
export type {
  IncomingContent,
  IncomingOptions,
  MediaInput,
  StandInUser,
  UserInit,
} from './telegram-stand-in/updates.ts';

export interface TelegramStandInOptions {
  /** Bot token; its numeric prefix is the bot's user id. */
  token?: string;
  botFirstName?: string;
  botUsername?: string;
  /** The forum supergroup's id (default -1001234567890) and title. */
  supportChatId?: number;
  supportChatTitle?: string;
  /**
   * false: the support group is a plain supergroup with Topics off (getChat has no is_forum; topic
   * calls answer "the chat is not a forum"). Default true.
   */
  supportChatIsForum?: boolean;
  /** getMe's can_read_all_group_messages; false means privacy mode is on. Default true. */
  botCanReadAllGroupMessages?: boolean;
  firstUpdateId?: number;
  /** Clock in milliseconds (message dates, the 48 h deletion rule, rate limits). */
  now?: () => number;
  /** Port on 127.0.0.1 (default: any free one). */
  port?: number;
}

export type ApiResponse =
  | { ok: true; result: unknown; description?: string }
  | { ok: false; error_code: number; description: string; parameters?: ResponseParameters };

export interface ApiCall {
  /** Canonical method name (Telegram matches names case-insensitively). */
  readonly method: string;
  /** Parameters as received, typed per name (ids as numbers, JSON fields parsed). */
  readonly params: Record<string, unknown>;
  /** Files uploaded with the call (multipart parts with a filename). */
  readonly uploads: { part: string; filename: string; size: number }[];
  /** When the call arrived, in ms of the stand-in's clock (Date.now() unless `now` was given). */
  readonly at: number;
  /** HTTP status answered; undefined when the connection was reset or left hanging. */
  status?: number;
  response?: ApiResponse;
  fault?: 'reset' | 'reset-after' | 'timeout' | 'bad-gateway';
}

/**
 * What failNext injects:
 * - `{ error_code, description?, parameters?, retry_after? }` an error answer without side effects
 *   (429 gets "Too Many Requests: retry after N" and parameters.retry_after; 500 "Internal Server Error");
 * - `'reset'` the connection is destroyed before the call has any effect;
 * - `'reset-after'` the call takes effect, then the connection is destroyed (the answer is lost);
 * - `'timeout'` no answer at all until the client gives up (or close());
 * - `'bad-gateway'` nginx's 502 HTML page instead of JSON.
 */
export type Fault =
  | { error_code: number; description?: string; parameters?: ResponseParameters; retry_after?: number }
  | 'reset'
  | 'reset-after'
  | 'timeout'
  | 'bad-gateway';

export interface RateLimits {
  /** Messages per second to one chat (Telegram: about 1). */
  perChatPerSecond?: number;
  /** Messages per minute to one group (Telegram: about 20). */
  groupPerMinute?: number;
  /** Messages per second in all (Telegram: about 30). */
  globalPerSecond?: number;
}

export interface TopicInfo {
  message_thread_id: number;
  name: string;
  icon_color: number;
  icon_custom_emoji_id?: string;
  closed: boolean;
  deleted: boolean;
  created_by: number;
}

export type TelegramStandIn = Awaited<ReturnType<typeof startTelegramStandIn>>;

const DEFAULT_LIMITS = { perChatPerSecond: 1, groupPerMinute: 20, globalPerSecond: 30 } as const;

const BAD_GATEWAY =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n';

const MAX_BODY = 50 * 1024 * 1024;

const errorResponse = (e: TelegramApiError): ApiResponse => ({
  ok: false,
  error_code: e.error_code,
  description: e.description,
  ...(e.parameters ? { parameters: e.parameters } : {}),
});

const faultError = (f: Exclude<Fault, string>): TelegramApiError => {
  if (f.error_code === 429 && !f.description)
    return tooManyRequests(f.retry_after ?? f.parameters?.retry_after ?? 1);
  const defaults: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    409: 'Conflict',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
  };
  const parameters =
    f.parameters ?? (f.retry_after !== undefined ? { retry_after: f.retry_after } : undefined);
  return new TelegramApiError(f.error_code, f.description ?? defaults[f.error_code] ?? 'Error', parameters);
};

export const startTelegramStandIn = async (options: TelegramStandInOptions = {}) => {
  const token = options.token ?? '7000000001:AAH-stand-in-token-for-topicdesk-tests_1';
  const botId = Number(token.split(':')[0]);
  if (!Number.isSafeInteger(botId) || botId <= 0)
    throw new Error('stand-in: the token must start with the bot id');
  const now = options.now ?? Date.now;
  const botInfo: UserFromGetMe = {
    id: botId,
    is_bot: true,
    first_name: options.botFirstName ?? 'Topicdesk Support',
    username: options.botUsername ?? 'topicdesk_test_bot',
    can_join_groups: true,
    can_read_all_group_messages: options.botCanReadAllGroupMessages ?? true,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
    has_topics_enabled: false,
    allows_users_to_create_topics: false,
    can_manage_bots: false,
    supports_join_request_queries: false,
  };
  const supportChat: Chat.SupergroupChat = {
    id: options.supportChatId ?? -1001234567890,
    title: options.supportChatTitle ?? 'Support',
    type: 'supergroup',
    ...(options.supportChatIsForum === false ? {} : { is_forum: true as const }),
  };
  const world = new World(botInfo, supportChat, now, 5_000_000_000 + Math.floor(Math.random() * 1000) * 1000);

  // ---- limits and faults ------------------------------------------------------------------------
  let limits: Required<RateLimits> | undefined;
  const windows = new Map<string, number[]>();
  const takeRate = (chat: ChatState, count: number) => {
    if (!limits) return;
    const t = now();
    const checks: [string, number, number][] = [
      [`chat:${chat.chat.id}`, 1000, limits.perChatPerSecond],
      ['global', 1000, limits.globalPerSecond],
    ];
    if (chat.chat.type !== 'private') checks.push([`group:${chat.chat.id}`, 60_000, limits.groupPerMinute]);
    let wait = 0;
    for (const [key, span, limit] of checks) {
      const stamps = (windows.get(key) ?? []).filter((s) => s > t - span);
      windows.set(key, stamps);
      const excess = stamps.length + count - limit;
      if (excess > 0) {
        const freeAt = (stamps[Math.min(excess, stamps.length) - 1] ?? t) + span;
        wait = Math.max(wait, Math.max(1, Math.ceil((freeAt - t) / 1000)));
      }
    }
    if (wait > 0) throw tooManyRequests(wait);
    for (const [key] of checks) windows.get(key)!.push(...Array<number>(count).fill(t));
  };
  const faults: { method: string; fault: Fault; left: number }[] = [];
  const takeFault = (method: string): Fault | undefined => {
    const i = faults.findIndex((f) => f.method === '*' || f.method.toLowerCase() === method.toLowerCase());
    if (i < 0) return undefined;
    const f = faults[i]!;
    if (--f.left <= 0) faults.splice(i, 1);
    return f.fault;
  };

  const env: StandInEnv = {
    world,
    queue: new UpdateQueue(),
    webhook: undefined as WebhookState | undefined,
    commands: new Map(),
    takeRate,
    hiddenForwards: new Set(),
    presses: new Map(),
  };
  const builders = new UpdateBuilders(env, options.firstUpdateId ?? 380_000_001);
  const calls: ApiCall[] = [];
  const hanging = new Set<ServerResponse>();

  // ---- HTTP ---------------------------------------------------------------------------------------
  const send = (res: ServerResponse, status: number, body: string | Buffer, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const answer = (res: ServerResponse, call: ApiCall | undefined, response: ApiResponse) => {
    const status = response.ok ? 200 : response.error_code;
    const body = JSON.stringify(response);
    if (call) {
      call.status = status;
      call.response = JSON.parse(body) as ApiResponse;
    }
    send(res, status, body);
  };

  const readBody = async (req: IncomingMessage): Promise<Buffer | undefined> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) return undefined;
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const file = /^\/file\/bot([^/]+)\/(.+)$/.exec(url.pathname);
    if (file) {
      req.resume();
      if (file[1] !== token)
        return answer(res, undefined, errorResponse(new TelegramApiError(401, 'Unauthorized')));
      const stored = world.filesByPath.get(decodeURIComponent(file[2]!));
      if (!stored) return answer(res, undefined, errorResponse(new TelegramApiError(404, 'Not Found')));
      return send(res, 200, stored.data, 'application/octet-stream');
    }
    const route = /^\/bot([^/]*)\/([A-Za-z0-9_]*)$/.exec(url.pathname);
    const body = await readBody(req);
    if (!route) return answer(res, undefined, errorResponse(new TelegramApiError(404, 'Not Found')));
    if (body === undefined) {
      res.setHeader('connection', 'close');
      return answer(res, undefined, errorResponse(new TelegramApiError(413, 'Request Entity Too Large')));
    }
    const found = findMethod(route[2]!);
    let parsed: ReturnType<typeof parseRequest>;
    try {
      parsed = parseRequest(body, req.headers['content-type'], url.searchParams);
    } catch (e) {
      if (e instanceof TelegramApiError) return answer(res, undefined, errorResponse(e));
      throw e;
    }
    const call: ApiCall = {
      method: found?.name ?? route[2]!,
      params: parsed.params,
      uploads: [...parsed.uploads.values()].map((u) => ({
        part: u.part,
        filename: u.filename,
        size: u.data.length,
      })),
      at: now(),
    };
    calls.push(call);
    if (route[1] !== token)
      return answer(res, call, errorResponse(new TelegramApiError(401, 'Unauthorized')));
    if (!found) return answer(res, call, errorResponse(new TelegramApiError(404, 'Not Found')));

    const fault = takeFault(found.name);
    if (fault === 'reset') {
      call.fault = 'reset';
      req.socket.destroy();
      return;
    }
    if (fault === 'timeout') {
      call.fault = 'timeout';
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    if (fault === 'bad-gateway') {
      call.fault = 'bad-gateway';
      call.status = 502;
      return send(res, 502, BAD_GATEWAY, 'text/html');
    }
    if (fault && fault !== 'reset-after') return answer(res, call, errorResponse(faultError(fault)));

    const aborted = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) aborted.abort();
    });
    let response: ApiResponse;
    try {
      const result = await found.handler({
        env,
        args: new Args(parsed.params, parsed.uploads),
        signal: aborted.signal,
      });
      response =
        result instanceof Described
          ? { ok: true, result: result.result, description: result.description }
          : { ok: true, result };
    } catch (e) {
      if (!(e instanceof TelegramApiError)) {
        console.error(`telegram stand-in: ${found.name} failed`, e);
        response = { ok: false, error_code: 500, description: 'Internal Server Error' };
      } else response = errorResponse(e);
    }
    if (fault === 'reset-after') {
      call.fault = 'reset-after';
      call.response = JSON.parse(JSON.stringify(response)) as ApiResponse;
      req.socket.destroy();
      return;
    }
    if (!res.destroyed) answer(res, call, response);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      console.error('telegram stand-in: request failed', e);
      if (!res.headersSent)
        send(res, 500, JSON.stringify({ ok: false, error_code: 500, description: 'Internal Server Error' }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const apiRoot = `http://127.0.0.1:${port}`;

  const clone = <T>(v: T): T => structuredClone(v);
  const isService = (m: Message) =>
    !!(
      m.forum_topic_created ||
      m.forum_topic_edited ||
      m.forum_topic_closed ||
      m.forum_topic_reopened ||
      m.new_chat_members ||
      m.left_chat_member ||
      m.pinned_message
    );

  return {
    apiRoot,
    token,
    botInfo,
    supportChatId: supportChat.id,
    supportChat,

    // ---- observing ------------------------------------------------------------------------------
    /** Every API call in arrival order (including rejected ones). */
    get calls(): readonly ApiCall[] {
      return calls;
    },
    callsTo(method: string): ApiCall[] {
      return calls.filter((c) => c.method.toLowerCase() === method.toLowerCase());
    },
    clearCalls(): void {
      calls.length = 0;
    },
    /**
     * Messages now in a chat, oldest first; with threadId only that topic's. Deleted messages are gone,
     * edited ones show their current content. Service messages (topic created/closed, ...) are left out
     * unless `includeService`.
     */
    messagesIn(chatId: number, threadId?: number, opts: { includeService?: boolean } = {}): Message[] {
      const state = world.chats.get(chatId);
      if (!state) return [];
      return [...state.messages.values()]
        .filter((m) => threadId === undefined || m.message_thread_id === threadId)
        .filter((m) => opts.includeService || !isService(m))
        .sort((a, b) => a.message_id - b.message_id)
        .map(clone);
    },
    /** Messages in the support group's General topic. */
    generalMessages(opts: { includeService?: boolean } = {}): Message[] {
      return [...world.group.messages.values()]
        .filter((m) => m.message_thread_id === undefined && (opts.includeService || !isService(m)))
        .sort((a, b) => a.message_id - b.message_id)
        .map(clone);
    },
    message(chatId: number, messageId: number): Message | undefined {
      const m = world.message(chatId, messageId);
      return m && clone(m);
    },
    /** The bot's reactions on a message (setMessageReaction); none once the message is gone. */
    reactionsOn(chatId: number, messageId: number): ReactionType[] {
      return world.reactionsOn(chatId, messageId);
    },
    topics(): TopicInfo[] {
      return [...world.topics.values()].map((t) => ({
        message_thread_id: t.message_thread_id,
        name: t.name,
        icon_color: t.icon_color,
        ...(t.icon_custom_emoji_id ? { icon_custom_emoji_id: t.icon_custom_emoji_id } : {}),
        closed: t.closed,
        deleted: t.deleted,
        created_by: t.creator.id,
      }));
    },
    /** The bytes stored for a file_id (uploads and files of incoming messages). */
    fileBytes(fileId: string): Buffer | undefined {
      return world.files.get(fileId)?.data;
    },
    /** Every button press made, with how the bot answered it (answerCallbackQuery). */
    presses(): Press[] {
      return [...env.presses.values()].map(clone);
    },
    /** Presses the bot has not answered: Telegram shows the presser a spinner until it does. */
    unansweredPresses(): Press[] {
      return [...env.presses.values()].filter((p) => !p.answered).map(clone);
    },
    /** The inline keyboard a message shows now (undefined when it has none). */
    keyboardOf(chatId: number, messageId: number): InlineKeyboardButton[][] | undefined {
      return clone(world.message(chatId, messageId)?.reply_markup?.inline_keyboard);
    },
    webhookInfo(): WebhookState | undefined {
      return env.webhook && clone(env.webhook);
    },
    commands(scope: object = { type: 'default' }, languageCode = ''): unknown[] {
      return clone(env.commands.get(`${JSON.stringify(scope)}|${languageCode}`) ?? []);
    },

    // ---- people ---------------------------------------------------------------------------------
    addUser: builders.addUser.bind(builders),
    addManager: builders.addManager.bind(builders),
    addOtherBot: builders.addOtherBot.bind(builders),

    // ---- faults and limits ----------------------------------------------------------------------
    /** The next `count` calls of `method` ('*' for any) fail with `fault` instead of being processed. */
    failNext(method: string, fault: Fault, count = 1): void {
      faults.push({ method, fault, left: count });
    },
    clearFaults(): void {
      faults.length = 0;
    },
    /** Later calls addressing this user's chat answer 403 "Forbidden: bot was blocked by the user". */
    blockBot(userId: number): void {
      const state = world.chats.get(userId);
      if (state?.chat.type !== 'private') throw new Error(`stand-in: no private chat with ${userId}`);
      state.blocked = true;
    },
    unblockBot(userId: number): void {
      const state = world.chats.get(userId);
      if (state) state.blocked = false;
    },
    /** A manager deletes the topic by hand (its messages go with it); Telegram tells the bot nothing. */
    deleteTopic(threadId: number): void {
      if (!world.topics.has(threadId)) throw new Error(`stand-in: no topic ${threadId}`);
      world.deleteTopic(threadId);
    },
    /** A manager deletes a message by hand; Telegram tells the bot nothing. */
    deleteMessageByHand(chatId: number, messageId: number): void {
      world.chats.get(chatId)?.messages.delete(messageId);
    },
    /** Enforce Telegram's flood limits (omitted fields take Telegram's values); `false` turns them off. */
    rateLimit(value: RateLimits | false): void {
      limits = value === false ? undefined : { ...DEFAULT_LIMITS, ...value };
      windows.clear();
    },
    /** Change the bot's rights in the support group (default: administrator that can manage topics). */
    setBotRights(rights: Partial<BotRights>): void {
      Object.assign(world.botRights, rights);
      world.groupMembers.set(botInfo.id, world.botRights.status);
    },

    // ---- updates --------------------------------------------------------------------------------
    privateMessage: builders.privateMessage.bind(builders),
    privateAlbum: builders.privateAlbum.bind(builders),
    editedPrivateMessage: builders.editedPrivateMessage.bind(builders),
    botBlockedBy: builders.botBlockedBy.bind(builders),
    botUnblockedBy: builders.botUnblockedBy.bind(builders),
    groupMessage: builders.groupMessage.bind(builders),
    editedGroupMessage: builders.editedGroupMessage.bind(builders),
    generalMessage: builders.generalMessage.bind(builders),
    otherBotMessage: builders.otherBotMessage.bind(builders),
    topicCreatedByManager: builders.topicCreatedByManager.bind(builders),
    topicCreatedByBot: builders.topicCreatedByBot.bind(builders),
    topicClosedByManager: builders.topicClosedByManager.bind(builders),
    topicReopenedByManager: builders.topicReopenedByManager.bind(builders),
    pressButton: builders.pressButton.bind(builders),
    newChatMembers: builders.newChatMembers.bind(builders),

    /** Queue updates for getUpdates (a waiting long poll is answered at once). */
    queueUpdate(...updates: (Update | Update[])[]): void {
      for (const u of updates.flat()) env.queue.push(u);
    },
    pendingUpdates(): Update[] {
      return env.queue.snapshot();
    },
    /**
     * POST an update to the webhook set with setWebhook, with X-Telegram-Bot-Api-Secret-Token as
     * Telegram sends it. A non-2xx answer is recorded in getWebhookInfo's last_error_*.
     */
    async deliver(update: Update): Promise<{ status: number; body: string }> {
      const hook = env.webhook;
      if (!hook) throw new Error('stand-in: no webhook is set');
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (hook.secret_token) headers['x-telegram-bot-api-secret-token'] = hook.secret_token;
      try {
        const res = await fetch(hook.url, { method: 'POST', headers, body: JSON.stringify(update) });
        const body = await res.text();
        if (res.status < 200 || res.status > 299) {
          hook.last_error_date = world.date();
          hook.last_error_message = `Wrong response from the webhook: ${res.status} ${res.statusText}`;
        }
        return { status: res.status, body };
      } catch (e) {
        hook.last_error_date = world.date();
        hook.last_error_message = 'Connection refused';
        throw e;
      }
    },

    async close(): Promise<void> {
      env.queue.release();
      for (const res of hanging) res.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
};
