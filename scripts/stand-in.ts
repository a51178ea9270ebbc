// `npm run stand-in`: the tests' Telegram Bot API stand-in as a server of its own, to try topicdesk
// by hand without a bot. Start it, start topicdesk with the variables it prints (long polling: no
// public address needed), then act as clients and managers with curl and read the transcripts.
import { createServer, type IncomingMessage } from 'node:http';
import { Command } from 'commander';
import type { Message } from 'grammy/types';
import { startTelegramStandIn } from '../test/support/telegram-stand-in.ts';

const program = new Command('stand-in')
  .option('--port <port>', 'Bot API port', '8081')
  .option('--control <port>', 'control port (clients, managers, transcripts)', '8082')
  .parse();
const opts = program.opts<{ port: string; control: string }>();

const tg = await startTelegramStandIn({ port: Number(opts.port) });
const users = new Map<string, ReturnType<typeof tg.addUser>>();
const managers = new Map<string, ReturnType<typeof tg.addManager>>();
const userOf = (name: string) => {
  let u = users.get(name);
  if (!u) {
    u = tg.addUser({ first_name: name });
    users.set(name, u);
  }
  return u;
};
const managerOf = (name: string) => {
  let m = managers.get(name);
  if (!m) {
    m = tg.addManager({ first_name: name });
    managers.set(name, m);
  }
  return m;
};

const line = (m: Message) => {
  const who = m.from?.is_bot ? 'bot' : (m.from?.first_name ?? '?');
  const body =
    m.text ?? m.caption ?? (m.forum_topic_created ? `[topic "${m.forum_topic_created.name}"]` : '[media]');
  const reply =
    m.reply_to_message && m.reply_to_message.message_id !== m.message_thread_id
      ? ` (reply to #${m.reply_to_message.message_id})`
      : '';
  const buttons = (m.reply_markup?.inline_keyboard ?? [])
    .flat()
    .map((b) => `[${b.text}]`)
    .join(' ');
  return `#${m.message_id} ${who}: ${body}${reply}${buttons ? `\n    buttons: ${buttons}` : ''}`;
};

/** The callback_data of the button labelled `label` (or whose label contains it) under a message. */
const buttonData = (chatId: number, messageId: number, label: string) => {
  const message = tg.messagesIn(chatId).find((m) => m.message_id === messageId);
  const buttons = (message?.reply_markup?.inline_keyboard ?? []).flat();
  const button = buttons.find((b) => b.text === label) ?? buttons.find((b) => b.text.includes(label));
  if (!button || !('callback_data' in button) || !button.callback_data)
    throw new Error(`no button "${label}" under message #${messageId}`);
  return button.callback_data;
};

const transcript = () =>
  tg
    .topics()
    .map((t) =>
      [
        `== topic ${t.message_thread_id} "${t.name}"${t.closed ? ' [closed]' : ''}`,
        ...tg.messagesIn(tg.supportChatId, t.message_thread_id).map(line),
      ].join('\n'),
    )
    .join('\n\n');

const chat = (name: string) =>
  [`== chat with ${name}`, ...tg.messagesIn(userOf(name).chat.id).map(line)].join('\n');

const body = async (req: IncomingMessage): Promise<Record<string, string>> => {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  return raw ? (JSON.parse(raw) as Record<string, string>) : {};
};

const control = createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? '/', 'http://x');
    let out: string;
    if (req.method === 'POST' && url.pathname === '/client') {
      // {"name": "Ivan", "text": "hello"}: a client writes to the bot.
      const b = await body(req);
      const update = tg.privateMessage(userOf(b.name ?? 'Client'), { text: b.text ?? '' });
      tg.queueUpdate(update);
      out = `queued update ${update.update_id}: message #${update.message!.message_id} from ${b.name}`;
    } else if (req.method === 'POST' && url.pathname === '/manager') {
      // {"name": "Alice", "topic": "<thread id>", "text": "…", "reply_to": "<message id>"}
      const b = await body(req);
      const update = tg.groupMessage(
        managerOf(b.name ?? 'Manager'),
        Number(b.topic),
        { text: b.text ?? '' },
        b.reply_to ? { reply_to_message_id: Number(b.reply_to) } : {},
      );
      tg.queueUpdate(update);
      out = `queued update ${update.update_id}: message #${update.message!.message_id} in topic ${b.topic}`;
    } else if (req.method === 'POST' && url.pathname === '/press') {
      // {"name": "Ivan", "message": "12", "button": "4"}: a client presses a button in their chat;
      // {"manager": "Alice", "message": "3", "button": "Close"}: a manager, in the support group.
      const b = await body(req);
      const who = b.manager ? managerOf(b.manager) : userOf(b.name ?? 'Client');
      const chatId = b.manager ? tg.supportChatId : userOf(b.name ?? 'Client').chat.id;
      const messageId = Number(b.message);
      const update = tg.pressButton(who, chatId, messageId, buttonData(chatId, messageId, b.button ?? ''));
      tg.queueUpdate(update);
      out = `queued update ${update.update_id}: a press of "${b.button}" under #${messageId}`;
    } else if (url.pathname === '/transcript') {
      out = transcript();
    } else if (url.pathname === '/chat') {
      out = chat(url.searchParams.get('name') ?? 'Client');
    } else {
      res.writeHead(404).end('POST /client, POST /manager, POST /press, GET /transcript, GET /chat?name=\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(`${out}\n`);
  } catch (error) {
    res.writeHead(400).end(`${error instanceof Error ? error.message : String(error)}\n`);
  }
});
await new Promise<void>((resolve) => control.listen(Number(opts.control), '127.0.0.1', resolve));

console.log(`Telegram Bot API stand-in on ${tg.apiRoot}; control on http://127.0.0.1:${opts.control}
Start topicdesk with:
  TELEGRAM_API_ROOT=${tg.apiRoot} TELEGRAM_BOT_TOKEN=${tg.token} TELEGRAM_SUPPORT_CHAT_ID=${tg.supportChatId} TELEGRAM_MODE=polling npm start
Then:
  curl -s -X POST localhost:${opts.control}/client -d '{"name":"Ivan","text":"hello"}'
  curl -s localhost:${opts.control}/transcript
  curl -s -X POST localhost:${opts.control}/manager -d '{"name":"Alice","topic":"<thread id>","text":"hi!"}'
  curl -s 'localhost:${opts.control}/chat?name=Ivan'
  curl -s -X POST localhost:${opts.control}/press -d '{"name":"Ivan","message":"<message id>","button":"4"}'`);
