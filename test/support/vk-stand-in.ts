// A local stand-in of the VK API for tests: a real HTTP server on 127.0.0.1 that vk-io talks to
// through `apiBaseUrl` (VK_API_BASE_URL). It keeps a community, its users and their dialogs, answers
// the methods topicdesk calls the way VK does — form-encoded requests with access_token and v,
// `{response}` or `{error: {error_code, error_msg, request_params}}` in a 200 — runs upload servers
// whose answers photos.saveMessagesPhoto and docs.save accept, a CDN for the files of client
// messages, and the Bots Long Poll server. Builders make Callback API events (the same objects the
// long poll carries) for what users do.
//
//   const vk = await startVkStandIn();
//   const ivan = vk.addUser({ first_name: 'Ivan', last_name: 'Petrov' });
//   await vk.postEvent(`${url}/webhooks/vk`, vk.messageNew(ivan, { text: 'hi' }));
//   vk.messagesIn(ivan.id) // both directions
//
// Simplified on purpose: one community, private dialogs only, inline keyboards of link and callback
// buttons only (kept on the message as VK keeps them; other button types are refused as malformed; a
// press of a callback button is a `message_event` answered by messages.sendMessageEventAnswer), no chats; uploaded
// photos are not re-encoded; the 24 h edit/delete window uses the stand-in's clock.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface VkStandInOptions {
  groupId?: number;
  groupName?: string;
  token?: string;
  confirmation?: string;
  secret?: string;
  /** Milliseconds; message dates and the 24 h windows. */
  now?: () => number;
  /** Echo the community's own sends as message_reply into the long poll (as VK does when subscribed). */
  longPollEchoes?: boolean;
}

export interface VkUserInit {
  first_name: string;
  last_name?: string;
  screen_name?: string;
  id?: number;
  /** client_info.lang_id of the user's app (0 ru, 3 en…). */
  lang_id?: number;
  /** Has the user allowed the community to message them? Default true (they wrote first). */
  allows_messages?: boolean;
}

export interface VkStandInUser {
  readonly id: number;
  readonly first_name: string;
  readonly last_name: string;
  readonly screen_name?: string;
  readonly lang_id: number;
}

export interface VkMessageObject {
  id: number;
  conversation_message_id: number;
  out: 0 | 1;
  peer_id: number;
  from_id: number;
  text: string;
  date: number;
  update_time?: number;
  random_id: number;
  attachments: VkAttachmentObject[];
  fwd_messages: VkMessageObject[];
  important: boolean;
  is_hidden: boolean;
  version: number;
  geo?: {
    type: 'point';
    coordinates: { latitude: number; longitude: number };
    place?: { title?: string; country?: string; city?: string };
  };
  reply_message?: VkMessageObject;
  admin_author_id?: number;
  /** The keyboard sent with it (messages.send's or messages.edit's `keyboard`), as VK shows it. */
  keyboard?: VkKeyboard;
}

/** A keyboard of link buttons: `{inline: true, buttons: [[{action: {type: 'open_link', link, label}}]]}`. */
export interface VkKeyboard {
  inline?: boolean;
  one_time?: boolean;
  buttons: { action: { type: string; link?: string; label?: string; payload?: string } }[][];
}

/** A press of a callback button (a `message_event`), and how the community answered it. */
export interface VkPress {
  readonly event_id: string;
  readonly user_id: number;
  readonly peer_id: number;
  readonly conversation_message_id: number;
  readonly payload: unknown;
  /** messages.sendMessageEventAnswer's event_data (`{type: 'show_snackbar', text}`). */
  answer?: Record<string, unknown>;
}

export interface VkAttachmentObject {
  type: string;
  [key: string]: unknown;
}

export interface VkCallbackEvent {
  type: string;
  event_id: string;
  v: string;
  object: unknown;
  group_id: number;
  secret?: string;
}

export interface VkApiCall {
  readonly method: string;
  readonly params: Record<string, string>;
  readonly at: number;
  response?: unknown;
}

/**
 * What failNext injects: a VK error answer; `'reset'` the connection is destroyed before the call has
 * any effect; `'reset-after'` the call takes effect, then the connection is destroyed (the answer is
 * lost); `'http-500'` an HTTP 500 (upload servers, CDN).
 */
export type VkFault = { error_code: number; error_msg?: string } | 'reset' | 'reset-after' | 'http-500';

/** Content of a client message. */
export interface VkIncoming {
  text?: string;
  attachments?: VkAttachmentObject[];
  geo?: { latitude: number; longitude: number; title?: string };
  /** The message being replied to (any message of the dialog). */
  reply_to?: VkMessageObject;
  forward?: VkMessageObject[];
}

interface StoredFile {
  data: Buffer;
  name: string;
  contentType: string;
}

interface StoredMessage extends VkMessageObject {
  deleted?: boolean;
  deletedForAll?: boolean;
}

const ERRORS: Record<number, string> = {
  5: 'User authorization failed: invalid access_token (4).',
  6: 'Too many requests per second',
  8: 'Invalid request: v (version) is required',
  9: 'Flood control',
  10: 'Internal server error',
  15: 'Access denied',
  100: 'One of the parameters specified was missing or invalid',
  113: 'Invalid user id',
  900: "Can't send messages for users from blacklist",
  901: "Can't send messages for users without permission",
  902: "Can't send messages to this user due to their privacy settings",
  909: "Can't edit this message, because it's too old",
  911: 'Keyboard format is invalid',
  914: 'Message is too long',
  924: "Can't delete this message for everybody",
};

class VkApiError extends Error {
  constructor(
    readonly code: number,
    detail?: string,
  ) {
    super(detail ? `${ERRORS[code] ?? 'Error'}: ${detail}` : (ERRORS[code] ?? 'Error'));
  }
}

const DAY = 24 * 60 * 60 * 1000;
const hex = (n: number) => randomBytes(n).toString('hex');

/** Parses multipart/form-data: files (with a filename) and plain fields. */
const parseMultipart = (body: Buffer, contentType: string) => {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const files = new Map<string, StoredFile>();
  const fields = new Map<string, string>();
  if (!boundary) return { files, fields };
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next < 0) break;
    const part = body.subarray(start + delimiter.length + 2, next - 2); // skip CRLF after the delimiter and before the next
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd >= 0) {
      const headers = part.subarray(0, headerEnd).toString('utf8');
      const data = part.subarray(headerEnd + 4);
      const name = /name="([^"]*)"/i.exec(headers)?.[1] ?? '';
      const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
      const type = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]?.trim() ?? 'application/octet-stream';
      if (filename !== undefined)
        files.set(name, { data: Buffer.from(data), name: filename, contentType: type });
      else fields.set(name, data.toString('utf8'));
    }
    start = next;
  }
  return { files, fields };
};

/** A tiny valid-looking JPEG (SOI … EOI) with a marker, so tests can tell files apart. */
export const fakeJpeg = (marker: string): Buffer =>
  Buffer.concat([
    Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
    Buffer.from(`JFIF-${marker}`),
    Buffer.from([0xff, 0xd9]),
  ]);

export type VkStandIn = Awaited<ReturnType<typeof startVkStandIn>>;

export const startVkStandIn = async (options: VkStandInOptions = {}) => {
  const groupId = options.groupId ?? 218_000_001;
  const token = options.token ?? `vk1.a.${hex(40)}`;
  const confirmation = options.confirmation ?? hex(4);
  const secret = options.secret ?? `s3cr3t_${hex(6)}`;
  const now = options.now ?? Date.now;
  const unix = () => Math.floor(now() / 1000);

  // ---- the world ----------------------------------------------------------------------------------
  const users = new Map<number, VkStandInUser & { allows: boolean }>();
  const messages = new Map<number, StoredMessage>(); // by id (one id space in the community's dialogs)
  const cmidSeq = new Map<number, number>();
  const randomIds = new Map<string, number>(); // `${peer}:${random_id}` → message id
  const cdn = new Map<string, StoredFile>();
  const pendingUploads = new Map<string, { kind: 'photo' | 'doc'; file: StoredFile; docType?: string }>();
  const saved = new Map<string, { type: string; object: Record<string, unknown> }>(); // attachment string → object
  const uploads: {
    kind: 'photo' | 'doc' | 'audio_message';
    name: string;
    data: Buffer;
    attachment: string;
  }[] = [];
  let userSeq = 481_000_000 + Math.floor(Math.random() * 1000) * 1000;
  let messageSeq = 1000;
  let mediaSeq = 457_239_000;

  const calls: VkApiCall[] = [];
  const faults: { method: string; fault: VkFault; left: number }[] = [];
  let rate: number | undefined;
  const stamps: number[] = [];

  const takeFault = (method: string): VkFault | undefined => {
    const i = faults.findIndex((f) => f.method === '*' || f.method === method);
    if (i < 0) return undefined;
    const f = faults[i]!;
    if (--f.left <= 0) faults.splice(i, 1);
    return f.fault;
  };

  // ---- long poll ----------------------------------------------------------------------------------
  const lpEvents: VkCallbackEvent[] = [];
  /** Events the poller has moved past (asked for a later ts): confirmed, in VK's terms. */
  let lpConfirmed = 0;
  let lpKey = hex(20);
  /** The first ts VK still holds updates from (earlier ones are out of its history). */
  let lpHistoryFrom = 1;
  /** Checks (`act=a_check`) received: a poller is running once this moves. */
  let lpChecks = 0;
  /** VK lost the poller's key and ts both: the next answer is `failed: 3`. */
  let lpLost = false;
  let lpWaiters: Array<() => void> = [];
  /** Answers every waiting check now (with what it then finds). */
  const wakeChecks = () => {
    const waiters = lpWaiters;
    lpWaiters = [];
    for (const w of waiters) w();
  };
  const queueEvent = (...events: VkCallbackEvent[]) => {
    for (const e of events) {
      const { secret: _omit, ...update } = e;
      lpEvents.push(update as VkCallbackEvent);
    }
    wakeChecks();
  };

  // ---- events -------------------------------------------------------------------------------------
  const echoes: VkCallbackEvent[] = [];
  /** Presses of callback buttons by their event_id, with the community's answer once given. */
  const pressEvents = new Map<string, VkPress>();
  const event = (type: string, object: unknown): VkCallbackEvent => ({
    group_id: groupId,
    type,
    event_id: hex(20),
    v: '5.199',
    object,
    secret,
  });
  const clientInfo = (user: VkStandInUser) => ({
    button_actions: ['text', 'vkpay', 'open_app', 'location', 'open_link', 'callback', 'intent_subscribe'],
    keyboard: true,
    inline_keyboard: true,
    carousel: true,
    lang_id: user.lang_id,
  });
  const clone = <T>(v: T): T => structuredClone(v);
  const publicMessage = (m: StoredMessage): VkMessageObject => {
    const { deleted: _d, deletedForAll: _a, ...rest } = m;
    return clone(rest);
  };
  /**
   * messages.send's `keyboard` as VK checks it: JSON, at most 6 rows inline (10 otherwise) of at most
   * 5 places, a link button as wide as two; link buttons with an http(s) link, callback buttons with a
   * JSON payload of at most 255 characters, labels of 1 to 40 characters. Anything else is error 911.
   * An inline keyboard with no rows takes a message's buttons away (messages.edit).
   */
  const keyboardOf = (raw: string | undefined): VkKeyboard | undefined => {
    if (raw === undefined || raw === '') return undefined;
    let k: VkKeyboard;
    try {
      k = JSON.parse(raw) as VkKeyboard;
    } catch {
      throw new VkApiError(911);
    }
    if (!Array.isArray(k?.buttons) || k.buttons.length > (k.inline ? 6 : 10)) throw new VkApiError(911);
    for (const row of k.buttons) {
      if (!Array.isArray(row) || row.length === 0 || row.length > 5) throw new VkApiError(911);
      let places = 0;
      for (const b of row) {
        const a = b?.action;
        if (typeof a?.label !== 'string' || a.label.length === 0 || a.label.length > 40)
          throw new VkApiError(911);
        if (a.type === 'open_link') {
          if (typeof a.link !== 'string' || !/^https?:\/\//.test(a.link)) throw new VkApiError(911);
          places += 2;
        } else if (a.type === 'callback') {
          if (a.payload !== undefined && (typeof a.payload !== 'string' || a.payload.length > 255))
            throw new VkApiError(911);
          try {
            if (a.payload !== undefined) JSON.parse(a.payload);
          } catch {
            throw new VkApiError(911);
          }
          places += 1;
        } else throw new VkApiError(911);
      }
      if (places > 5) throw new VkApiError(911);
    }
    return k;
  };
  const nextCmid = (peer: number) => {
    const n = (cmidSeq.get(peer) ?? 0) + 1;
    cmidSeq.set(peer, n);
    return n;
  };

  // ---- files --------------------------------------------------------------------------------------
  let base = '';
  const host = (data: Buffer, name: string, contentType: string): string => {
    const key = hex(8);
    cdn.set(key, { data, name, contentType });
    return `${base}/cdn/${key}/${encodeURIComponent(name)}`;
  };
  const photoObject = (ownerId: number, data: Buffer, name = 'photo.jpg') => {
    const id = ++mediaSeq;
    const url = host(data, name, 'image/jpeg');
    return {
      album_id: -3,
      date: unix(),
      id,
      owner_id: ownerId,
      access_key: hex(9),
      sizes: [
        { height: 75, width: 56, type: 's', url: `${url}?size=s` },
        { height: 130, width: 97, type: 'm', url: `${url}?size=m` },
        { height: 1280, width: 960, type: 'z', url },
        { height: 807, width: 604, type: 'x', url: `${url}?size=x` },
      ],
      text: '',
      has_tags: false,
    };
  };
  const docObject = (ownerId: number, data: Buffer, title: string, type = 1) => {
    const ext = /\.([A-Za-z0-9]+)$/.exec(title)?.[1]?.toLowerCase() ?? 'dat';
    return {
      id: ++mediaSeq,
      owner_id: ownerId,
      title,
      size: data.length,
      ext,
      date: unix(),
      type,
      url: host(data, title, 'application/octet-stream'),
      access_key: hex(9),
    };
  };
  const audioMessageObject = (ownerId: number, data: Buffer, duration = 3) => {
    const id = ++mediaSeq;
    return {
      id,
      owner_id: ownerId,
      duration,
      waveform: [0, 4, 12, 20, 12, 4, 0],
      link_ogg: host(data, `audiomsg_${id}.ogg`, 'audio/ogg'),
      link_mp3: host(data, `audiomsg_${id}.mp3`, 'audio/mpeg'),
      access_key: hex(9),
    };
  };
  const attachmentString = (type: string, o: Record<string, unknown>) =>
    `${type}${o.owner_id}_${o.id}${o.access_key ? `_${o.access_key}` : ''}`;

  // ---- API methods --------------------------------------------------------------------------------
  type Params = Record<string, string>;
  const int = (p: Params, name: string): number | undefined => {
    if (p[name] === undefined || p[name] === '') return undefined;
    const n = Number(p[name]);
    if (!Number.isFinite(n)) throw new VkApiError(100, `${name} not integer`);
    return n;
  };
  const ids = (value: string | undefined) =>
    (value ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(Number);

  const userObject = (u: VkStandInUser, fields: string[]) => ({
    id: u.id,
    first_name: u.first_name,
    last_name: u.last_name,
    can_access_closed: true,
    is_closed: false,
    ...(fields.includes('screen_name') ? { screen_name: u.screen_name ?? `id${u.id}` } : {}),
  });

  const resolveAttachments = (value: string | undefined): VkAttachmentObject[] =>
    (value ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((ref) => {
        const found = saved.get(ref);
        if (!found) throw new VkApiError(100, `attachment: ${ref} is invalid`);
        return { type: found.type, [found.type]: clone(found.object) };
      });

  const echo = (type: 'message_reply' | 'message_edit', m: StoredMessage) => {
    const e = event(type, publicMessage(m));
    echoes.push(e);
    if (options.longPollEchoes) queueEvent(e);
  };

  const methods: Record<string, (p: Params) => unknown> = {
    'users.get': (p) => {
      const fields = (p.fields ?? '').split(',');
      return ids(p.user_ids).map((id) => {
        const u = users.get(id);
        if (!u) throw new VkApiError(113);
        return userObject(u, fields);
      });
    },
    'groups.getById': () => ({
      groups: [
        { id: groupId, name: options.groupName ?? 'Support', screen_name: `club${groupId}`, type: 'group' },
      ],
      profiles: [],
    }),
    'groups.getLongPollServer': (p) => {
      if (int(p, 'group_id') !== groupId) throw new VkApiError(15, 'no access to this community');
      return { key: lpKey, server: `${base}/lp/${groupId}`, ts: String(lpEvents.length + 1) };
    },
    'messages.send': (p) => {
      const peer = int(p, 'peer_id') ?? int(p, 'user_id') ?? ids(p.peer_ids)[0];
      if (peer === undefined) throw new VkApiError(100, 'peer_id is undefined');
      if (p.random_id === undefined) throw new VkApiError(100, 'random_id is a required parameter');
      const user = users.get(peer);
      if (!user) throw new VkApiError(100, 'peer_id is invalid');
      if (!user.allows) throw new VkApiError(901);
      const randomId = int(p, 'random_id') ?? 0;
      const answer = (m: StoredMessage) =>
        p.peer_ids !== undefined
          ? [{ peer_id: peer, message_id: m.id, conversation_message_id: m.conversation_message_id }]
          : m.id;
      if (randomId !== 0) {
        const earlier = randomIds.get(`${peer}:${randomId}`);
        if (earlier !== undefined) return answer(messages.get(earlier)!);
      }
      const text = p.message ?? '';
      if (text.length > 4096) throw new VkApiError(914);
      const attachments = resolveAttachments(p.attachment);
      const lat = p.lat !== undefined ? Number(p.lat) : undefined;
      const long = p.long !== undefined ? Number(p.long) : undefined;
      if (!text && attachments.length === 0 && lat === undefined) {
        throw new VkApiError(100, 'message is empty or invalid');
      }
      const keyboard = keyboardOf(p.keyboard);
      const replyTo = int(p, 'reply_to');
      const replied = replyTo !== undefined ? messages.get(replyTo) : undefined;
      if (replyTo !== undefined && (!replied || replied.peer_id !== peer)) {
        throw new VkApiError(100, 'reply_to is invalid');
      }
      const m: StoredMessage = {
        id: ++messageSeq,
        conversation_message_id: nextCmid(peer),
        out: 1,
        peer_id: peer,
        from_id: -groupId,
        text,
        date: unix(),
        random_id: randomId,
        attachments,
        fwd_messages: [],
        important: false,
        is_hidden: false,
        version: messageSeq,
        ...(lat !== undefined && long !== undefined
          ? { geo: { type: 'point' as const, coordinates: { latitude: lat, longitude: long } } }
          : {}),
        ...(replied ? { reply_message: publicMessage(replied) } : {}),
        ...(keyboard ? { keyboard } : {}),
      };
      messages.set(m.id, m);
      if (randomId !== 0) randomIds.set(`${peer}:${randomId}`, m.id);
      echo('message_reply', m);
      return answer(m);
    },
    'messages.edit': (p) => {
      const peer = int(p, 'peer_id');
      const id = int(p, 'message_id');
      const cmid = int(p, 'conversation_message_id');
      const m =
        id !== undefined
          ? messages.get(id)
          : [...messages.values()].find((x) => x.peer_id === peer && x.conversation_message_id === cmid);
      if (!m || m.peer_id !== peer || m.deleted) throw new VkApiError(100, 'message_id is invalid');
      if (m.out !== 1) throw new VkApiError(15, "can't edit messages of other users");
      if (now() - m.date * 1000 > DAY) throw new VkApiError(909);
      const text = p.message ?? '';
      if (text.length > 4096) throw new VkApiError(914);
      const attachments = resolveAttachments(p.attachment);
      if (!text && attachments.length === 0) throw new VkApiError(100, 'message is empty or invalid');
      // A new keyboard replaces the old; an edit without one leaves the message's as it was.
      const keyboard = keyboardOf(p.keyboard);
      if (keyboard) m.keyboard = keyboard;
      m.text = text;
      m.attachments = attachments;
      m.update_time = unix();
      m.version = ++messageSeq;
      if (p.lat !== undefined && p.long !== undefined) {
        m.geo = { type: 'point', coordinates: { latitude: Number(p.lat), longitude: Number(p.long) } };
      }
      echo('message_edit', m);
      return 1;
    },
    'messages.delete': (p) => {
      const peer = int(p, 'peer_id');
      const forAll = p.delete_for_all === '1' || p.delete_for_all === 'true';
      const targets =
        p.message_ids !== undefined
          ? ids(p.message_ids).map((id) => messages.get(id))
          : ids(p.cmids).map((c) =>
              [...messages.values()].find((x) => x.peer_id === peer && x.conversation_message_id === c),
            );
      const result: Record<string, number> = {};
      for (const m of targets) {
        if (!m || (peer !== undefined && m.peer_id !== peer))
          throw new VkApiError(100, 'message_ids is invalid');
        if (forAll && (m.out !== 1 || now() - m.date * 1000 > DAY)) throw new VkApiError(924);
        m.deleted = true;
        m.deletedForAll = forAll;
        result[String(m.id)] = 1;
      }
      return result;
    },
    'messages.sendMessageEventAnswer': (p) => {
      const press = pressEvents.get(p.event_id ?? '');
      if (!press || press.user_id !== int(p, 'user_id') || press.peer_id !== int(p, 'peer_id'))
        throw new VkApiError(100, 'event_id is invalid');
      if (press.answer !== undefined) throw new VkApiError(100, 'event_id is invalid: answered already');
      let data: unknown;
      try {
        data = p.event_data === undefined ? undefined : JSON.parse(p.event_data);
      } catch {
        throw new VkApiError(100, 'event_data is invalid');
      }
      press.answer = (data ?? {}) as Record<string, unknown>;
      return 1;
    },
    'messages.getById': (p) => {
      const items = ids(p.message_ids)
        .map((id) => messages.get(id))
        .filter((m): m is StoredMessage => m !== undefined && !m.deleted)
        .map(publicMessage);
      return { count: items.length, items };
    },
    'photos.getMessagesUploadServer': (p) => ({
      album_id: -3,
      upload_url: `${base}/upload/photo?peer=${p.peer_id ?? 0}&sig=${hex(8)}`,
      user_id: 0,
      group_id: groupId,
    }),
    'photos.saveMessagesPhoto': (p) => {
      const pending = pendingUploads.get(`photo:${p.hash}`);
      if (!pending || !p.photo || !p.server) throw new VkApiError(100, 'photo is undefined');
      pendingUploads.delete(`photo:${p.hash}`);
      const photo = photoObject(-groupId, pending.file.data, pending.file.name);
      const ref = attachmentString('photo', photo);
      saved.set(ref, { type: 'photo', object: photo });
      uploads.push({ kind: 'photo', name: pending.file.name, data: pending.file.data, attachment: ref });
      return [photo];
    },
    'docs.getMessagesUploadServer': (p) => {
      const type = p.type ?? 'doc';
      if (!['doc', 'audio_message', 'graffiti'].includes(type)) throw new VkApiError(100, 'type is invalid');
      return { upload_url: `${base}/upload/doc?type=${type}&peer=${p.peer_id ?? 0}&sig=${hex(8)}` };
    },
    'docs.save': (p) => {
      const pending = pendingUploads.get(`doc:${p.file}`);
      if (!pending) throw new VkApiError(100, 'file is undefined');
      pendingUploads.delete(`doc:${p.file}`);
      const { file } = pending;
      if (pending.docType === 'audio_message') {
        const audio = audioMessageObject(-groupId, file.data);
        const ref = attachmentString('doc', audio);
        saved.set(ref, { type: 'audio_message', object: audio });
        saved.set(attachmentString('audio_message', audio), { type: 'audio_message', object: audio });
        uploads.push({ kind: 'audio_message', name: file.name, data: file.data, attachment: ref });
        return { type: 'audio_message', audio_message: audio };
      }
      const doc = docObject(-groupId, file.data, p.title || file.name);
      const ref = attachmentString('doc', doc);
      saved.set(ref, { type: 'doc', object: doc });
      uploads.push({ kind: 'doc', name: doc.title, data: file.data, attachment: ref });
      return { type: 'doc', doc };
    },
  };

  // ---- HTTP ---------------------------------------------------------------------------------------
  const readBody = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  };
  const vkError = (p: Params, method: string, code: number, msg?: string) => ({
    error: {
      error_code: code,
      error_msg: msg ?? ERRORS[code] ?? 'Error',
      request_params: [
        { key: 'method', value: method },
        { key: 'oauth', value: '1' },
        ...Object.entries(p)
          .filter(([k]) => k !== 'access_token')
          .map(([key, value]) => ({ key, value })),
      ],
    },
  });

  const apiCall = async (req: IncomingMessage, res: ServerResponse, method: string, url: URL) => {
    const body = await readBody(req);
    const params: Params = Object.fromEntries(url.searchParams);
    const type = req.headers['content-type'] ?? '';
    if (/application\/x-www-form-urlencoded/i.test(type)) {
      Object.assign(params, Object.fromEntries(new URLSearchParams(body.toString('utf8'))));
    } else if (/multipart\/form-data/i.test(type)) {
      Object.assign(params, Object.fromEntries(parseMultipart(body, type).fields));
    }
    const call: VkApiCall = { method, params, at: now() };
    calls.push(call);
    const answer = (payload: unknown) => {
      call.response = payload;
      json(res, 200, payload);
    };
    const fault = takeFault(method);
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault === 'http-500') return json(res, 500, { error: 'internal' });
    if (params.access_token !== token) return answer(vkError(params, method, 5));
    if (!params.v) return answer(vkError(params, method, 8));
    if (fault && fault !== 'reset-after')
      return answer(vkError(params, method, fault.error_code, fault.error_msg));
    if (rate !== undefined) {
      const t = now();
      while (stamps.length > 0 && stamps[0]! <= t - 1000) stamps.shift();
      if (stamps.length >= rate) return answer(vkError(params, method, 6));
      stamps.push(t);
    }
    const handler = methods[method];
    if (!handler) return answer(vkError(params, method, 3, 'Unknown method passed'));
    let payload: unknown;
    try {
      payload = { response: handler(params) };
    } catch (e) {
      if (!(e instanceof VkApiError)) throw e;
      payload = vkError(params, method, e.code, e.message);
    }
    if (fault === 'reset-after') {
      call.response = payload;
      req.socket.destroy();
      return;
    }
    answer(payload);
  };

  const uploadCall = async (req: IncomingMessage, res: ServerResponse, kind: 'photo' | 'doc', url: URL) => {
    const body = await readBody(req);
    const call: VkApiCall = {
      method: `upload:${kind}`,
      params: Object.fromEntries(url.searchParams),
      at: now(),
    };
    calls.push(call);
    const fault = takeFault(call.method);
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault === 'http-500') return json(res, 500, { error: 'internal' });
    const { files } = parseMultipart(body, req.headers['content-type'] ?? '');
    const file = files.get(kind === 'photo' ? 'photo' : 'file');
    if (!file || file.data.length === 0) {
      call.response = { error: 'ERR_UPLOAD_FILE_NOT_UPLOADED: file not uploaded' };
      return json(res, 200, call.response);
    }
    if (kind === 'photo') {
      const hash = hex(16);
      const server = 842_000 + Math.floor(Math.random() * 1000);
      const photo = JSON.stringify([
        { markers_restarted: true, photo: `${hex(5)}:w`, sizes: [], latitude: 0, longitude: 0, kid: hex(16) },
      ]);
      pendingUploads.set(`photo:${hash}`, { kind, file });
      call.response = { server, photo, hash };
    } else {
      const token = `${groupId}|0|0|${hex(6)}|${hex(16)}`;
      pendingUploads.set(`doc:${token}`, { kind, file, docType: url.searchParams.get('type') ?? 'doc' });
      call.response = { file: token };
    }
    json(res, 200, call.response);
  };

  const longPoll = async (res: ServerResponse, url: URL) => {
    const key = url.searchParams.get('key');
    const ts = Number(url.searchParams.get('ts'));
    const wait = Math.min(90, Number(url.searchParams.get('wait') ?? 25));
    if (url.searchParams.get('act') !== 'a_check') return json(res, 200, { failed: 2 });
    if (key !== lpKey) return json(res, 200, { failed: 2 });
    lpChecks++;
    if (Number.isInteger(ts)) lpConfirmed = Math.max(lpConfirmed, ts - 1);
    if (!Number.isInteger(ts) || ts < lpHistoryFrom || ts > lpEvents.length + 1) {
      return json(res, 200, { failed: 1, ts: String(lpEvents.length + 1) });
    }
    if (ts > lpEvents.length && !lpLost) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait * 1000);
        lpWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
        res.on('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    if (res.destroyed) return;
    if (key !== lpKey) return json(res, 200, { failed: 2 });
    if (lpLost) {
      lpLost = false;
      return json(res, 200, { failed: 3 });
    }
    json(res, 200, { ts: String(lpEvents.length + 1), updates: lpEvents.slice(ts - 1) });
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const run = async () => {
      const method = /^\/method\/([\w.]+)$/.exec(url.pathname);
      if (method && (req.method === 'POST' || req.method === 'GET'))
        return apiCall(req, res, method[1]!, url);
      const upload = /^\/upload\/(photo|doc)$/.exec(url.pathname);
      if (upload && req.method === 'POST') return uploadCall(req, res, upload[1] as 'photo' | 'doc', url);
      const file = /^\/cdn\/([0-9a-f]+)\//.exec(url.pathname);
      if (file) {
        req.resume();
        const fault = takeFault('cdn');
        if (fault === 'http-500') return json(res, 500, { error: 'internal' });
        const stored = cdn.get(file[1]!);
        if (!stored) {
          res.writeHead(404, { 'content-type': 'text/html' });
          return res.end('<html><body>404 Not Found</body></html>');
        }
        res.writeHead(200, { 'content-type': stored.contentType, 'content-length': stored.data.length });
        return res.end(stored.data);
      }
      // VK's own links redirect to its CDN (vk.com/doc… to psv4.userapi.com): /redirect?to=<url> does that.
      if (url.pathname === '/redirect' && url.searchParams.get('to')) {
        req.resume();
        res.writeHead(302, { location: url.searchParams.get('to')! });
        return res.end();
      }
      if (url.pathname === `/lp/${groupId}`) {
        req.resume();
        return longPoll(res, url);
      }
      req.resume();
      json(res, 404, { error: 'not found' });
    };
    run().catch((e: unknown) => {
      console.error('vk stand-in: request failed', e);
      if (!res.headersSent) json(res, 500, { error: 'stand-in failure' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // ---- client messages ----------------------------------------------------------------------------
  const clientMessage = (user: VkStandInUser, content: VkIncoming): StoredMessage => {
    const m: StoredMessage = {
      id: ++messageSeq,
      conversation_message_id: nextCmid(user.id),
      out: 0,
      peer_id: user.id,
      from_id: user.id,
      text: content.text ?? '',
      date: unix(),
      random_id: 0,
      attachments: clone(content.attachments ?? []),
      fwd_messages: clone(content.forward ?? []),
      important: false,
      is_hidden: false,
      version: messageSeq,
      ...(content.geo
        ? {
            geo: {
              type: 'point' as const,
              coordinates: { latitude: content.geo.latitude, longitude: content.geo.longitude },
              ...(content.geo.title
                ? { place: { title: content.geo.title, country: 'Russia', city: 'Moscow' } }
                : {}),
            },
          }
        : {}),
      ...(content.reply_to ? { reply_message: clone(content.reply_to) } : {}),
    };
    messages.set(m.id, m);
    return m;
  };

  return {
    apiBaseUrl: `${base}/method`,
    baseUrl: base,
    token,
    groupId,
    confirmation,
    secret,

    // ---- people -----------------------------------------------------------------------------------
    addUser(init: VkUserInit): VkStandInUser {
      const id = init.id ?? ++userSeq;
      const user = {
        id,
        first_name: init.first_name,
        last_name: init.last_name ?? '',
        ...(init.screen_name ? { screen_name: init.screen_name } : {}),
        lang_id: init.lang_id ?? 0,
        allows: init.allows_messages ?? true,
      };
      users.set(id, user);
      return user;
    },
    /** The user turns off messages from the community (message_deny): sends answer 901. */
    denyMessages(userId: number): void {
      users.get(userId)!.allows = false;
    },
    allowMessages(userId: number): void {
      users.get(userId)!.allows = true;
    },

    // ---- observing --------------------------------------------------------------------------------
    get calls(): readonly VkApiCall[] {
      return calls;
    },
    callsTo(method: string): VkApiCall[] {
      return calls.filter((c) => c.method === method);
    },
    /** The dialog with a user, oldest first; deleted messages are left out unless asked for. */
    messagesIn(
      peerId: number,
      opts: { includeDeleted?: boolean } = {},
    ): (VkMessageObject & { deleted?: boolean })[] {
      return [...messages.values()]
        .filter((m) => m.peer_id === peerId && (opts.includeDeleted || !m.deleted))
        .sort((a, b) => a.id - b.id)
        .map((m) => ({ ...publicMessage(m), ...(m.deleted ? { deleted: true } : {}) }));
    },
    /** The community's answers in a dialog (out=1), oldest first. */
    sentTo(peerId: number): VkMessageObject[] {
      return this.messagesIn(peerId).filter((m) => m.out === 1);
    },
    /** Files uploaded through the upload servers and saved, in order. */
    get uploads(): readonly { kind: string; name: string; data: Buffer; attachment: string }[] {
      return uploads;
    },
    /** The bytes behind an attachment string the community saved. */
    savedAttachment(ref: string): { type: string; object: Record<string, unknown> } | undefined {
      return saved.get(ref);
    },
    /** message_reply / message_edit events VK would send for the community's own messages. */
    get echoes(): readonly VkCallbackEvent[] {
      return echoes;
    },

    // ---- faults and limits ------------------------------------------------------------------------
    /**
     * The next `count` calls of `method` ('*' for any; 'upload:photo', 'upload:doc', 'cdn' for the
     * servers) fail with `fault`.
     */
    failNext(method: string, fault: VkFault, count = 1): void {
      faults.push({ method, fault, left: count });
    },
    clearFaults(): void {
      faults.length = 0;
    },
    /** Answer error 6 beyond `perSecond` API requests a second; undefined turns it off. */
    rateLimit(perSecond: number | undefined): void {
      rate = perSecond;
      stamps.length = 0;
    },
    /** VK loses the poller's key and ts (a waiting check, or the next one, answers failed: 3). */
    loseLongPollState(): void {
      lpLost = true;
      wakeChecks();
    },
    /** The long poll key expires (a waiting check, or the next one, answers failed: 2). */
    expireLongPollKey(): void {
      lpKey = hex(20);
      wakeChecks();
    },

    // ---- files ------------------------------------------------------------------------------------
    /** Bytes served at a CDN URL of this stand-in. */
    fileAt(url: string): Buffer | undefined {
      const key = /\/cdn\/([0-9a-f]+)\//.exec(url)?.[1];
      return key ? cdn.get(key)?.data : undefined;
    },
    /** Attachments of client messages, with their files on the stand-in's CDN. */
    attachments: {
      photo(user: VkStandInUser, data: Buffer = fakeJpeg(hex(4))): VkAttachmentObject {
        return { type: 'photo', photo: photoObject(user.id, data) };
      },
      doc(
        user: VkStandInUser,
        title: string,
        data: Buffer = Buffer.from(`document ${title}`),
      ): VkAttachmentObject {
        return { type: 'doc', doc: docObject(user.id, data, title) };
      },
      /** A doc VK claims is `size` bytes (the CDN holds a few). */
      hugeDoc(user: VkStandInUser, title: string, size: number): VkAttachmentObject {
        return { type: 'doc', doc: { ...docObject(user.id, Buffer.from('x'), title), size } };
      },
      audioMessage(user: VkStandInUser, data: Buffer = Buffer.from(`OggS${hex(8)}`)): VkAttachmentObject {
        return {
          type: 'audio_message',
          audio_message: { ...audioMessageObject(user.id, data), transcript: 'hello' },
        };
      },
      sticker(stickerId = 9046, data: Buffer = Buffer.from(`PNG-sticker-${stickerId}`)): VkAttachmentObject {
        const url = host(data, `sticker${stickerId}.png`, 'image/png');
        const sizes = [64, 128, 256, 352, 512].map((w) => ({ url: `${url}?w=${w}`, width: w, height: w }));
        sizes[4]!.url = url;
        return {
          type: 'sticker',
          sticker: {
            product_id: 279,
            sticker_id: stickerId,
            images: sizes,
            images_with_background: sizes,
            is_allowed: true,
          },
        };
      },
      video(title = 'Unboxing', ownerId = -1): VkAttachmentObject {
        return {
          type: 'video',
          video: {
            id: ++mediaSeq,
            owner_id: ownerId,
            title,
            duration: 95,
            access_key: hex(9),
            date: unix(),
            views: 10,
          },
        };
      },
      audio(artist = 'Kino', title = 'Gruppa krovi'): VkAttachmentObject {
        return {
          type: 'audio',
          audio: { id: ++mediaSeq, owner_id: 2_000_001, artist, title, duration: 287, date: unix(), url: '' },
        };
      },
      wall(text = 'Our new collection is out', ownerId = -groupId): VkAttachmentObject {
        return {
          type: 'wall',
          wall: {
            id: ++mediaSeq,
            owner_id: ownerId,
            from_id: ownerId,
            date: unix(),
            text,
            post_type: 'post',
          },
        };
      },
      link(url = 'https://example.com/order/42', title = 'Order 42'): VkAttachmentObject {
        return { type: 'link', link: { url, title, caption: 'example.com', description: '' } };
      },
      market(title = 'Blue mug', price = '990 ₽'): VkAttachmentObject {
        return {
          type: 'market',
          market: {
            id: ++mediaSeq,
            owner_id: -groupId,
            title,
            description: '',
            price: { amount: '99000', currency: { id: 643, name: 'RUB' }, text: price },
          },
        };
      },
      poll(question = 'Which size?', answers = ['S', 'M', 'L']): VkAttachmentObject {
        return {
          type: 'poll',
          poll: {
            id: ++mediaSeq,
            owner_id: -groupId,
            question,
            answers: answers.map((text, i) => ({ id: i + 1, text, votes: 0, rate: 0 })),
            anonymous: true,
            multiple: false,
          },
        };
      },
      gift(): VkAttachmentObject {
        return { type: 'gift', gift: { id: ++mediaSeq, thumb_256: `${base}/cdn/none/gift.png` } };
      },
    },

    // ---- Callback API events ----------------------------------------------------------------------
    /** `confirmation`: VK asks for the string when the server address is saved. */
    confirmationEvent(): VkCallbackEvent {
      return { type: 'confirmation', group_id: groupId, event_id: hex(20), v: '5.199', object: {}, secret };
    },
    /** A user writes to the community: message_new with object.message and client_info. */
    messageNew(
      user: VkStandInUser,
      content: VkIncoming = {},
    ): VkCallbackEvent & { message: VkMessageObject } {
      const m = clientMessage(user, content);
      return {
        ...event('message_new', { message: publicMessage(m), client_info: clientInfo(user) }),
        message: publicMessage(m),
      };
    },
    /** The user edits a message: message_edit with the message object itself. */
    messageEdit(
      message: VkMessageObject,
      change: { text?: string; attachments?: VkAttachmentObject[] },
    ): VkCallbackEvent {
      const m = messages.get(message.id);
      if (!m) throw new Error(`vk stand-in: no message ${message.id}`);
      if (change.text !== undefined) m.text = change.text;
      if (change.attachments !== undefined) m.attachments = clone(change.attachments);
      m.update_time = unix();
      m.version = ++messageSeq;
      return event('message_edit', publicMessage(m));
    },
    /**
     * The user presses a callback button of one of the community's messages: the `message_event` VK
     * sends, with the button's payload. A message without such a button is a mistake in the test.
     */
    messageEvent(user: VkStandInUser, message: VkMessageObject, payload: unknown): VkCallbackEvent {
      const m = messages.get(message.id);
      if (!m || m.peer_id !== user.id)
        throw new Error(`vk stand-in: no message ${message.id} for ${user.id}`);
      const wanted = JSON.stringify(payload);
      const found = (m.keyboard?.buttons ?? [])
        .flat()
        .some((b) => b.action.type === 'callback' && b.action.payload === wanted);
      if (!found)
        throw new Error(`vk stand-in: message ${m.id} has no callback button with payload ${wanted}`);
      const press: VkPress = {
        event_id: hex(6),
        user_id: user.id,
        peer_id: user.id,
        conversation_message_id: m.conversation_message_id,
        payload: clone(payload),
      };
      pressEvents.set(press.event_id, press);
      const { answer: _a, ...object } = press;
      return event('message_event', object);
    },
    /** Presses of callback buttons, in order, with the community's answers. */
    get presses(): readonly VkPress[] {
      return [...pressEvents.values()].map(clone);
    },
    /** message_reply for one of the community's own messages (what VK echoes after messages.send). */
    messageReply(message: VkMessageObject): VkCallbackEvent {
      return event('message_reply', clone(message));
    },
    /** Any other event type (message_allow, message_typing_state…). */
    otherEvent(type: string, object: unknown): VkCallbackEvent {
      return event(type, object);
    },
    /** Strip the wrapper fields the builders add for convenience. */
    body(e: VkCallbackEvent): VkCallbackEvent {
      const { message: _m, ...rest } = e as VkCallbackEvent & { message?: unknown };
      return rest;
    },

    /** POSTs an event to a Callback API server as VK does (JSON); answers status and text. */
    async postEvent(url: string, e: VkCallbackEvent, retry = 0): Promise<{ status: number; body: string }> {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'VKCallbackAPI',
          ...(retry > 0 ? { 'x-retry-counter': String(retry) } : {}),
        },
        body: JSON.stringify(this.body(e)),
      });
      return { status: res.status, body: await res.text() };
    },

    // ---- long poll --------------------------------------------------------------------------------
    /** Queue events for the Bots Long Poll (a waiting check is answered at once). */
    queueEvent,
    /** How many events the long poll holds (all kept; `ts` is one past the last). */
    get longPollLength(): number {
      return lpEvents.length;
    },
    /** Long poll checks received with a valid key. */
    get longPollChecks(): number {
      return lpChecks;
    },
    /** VK drops the updates it holds (a long outage): a check from before them answers `failed: 1`. */
    forgetLongPollHistory(): void {
      lpHistoryFrom = lpEvents.length + 1;
    },
    /** How many long poll events the app has confirmed (it asked for a ts past them). */
    get longPollConfirmed(): number {
      return lpConfirmed;
    },

    async close(): Promise<void> {
      wakeChecks();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
};

/** A stable id for bytes, to compare files that went through several hands. */
export const digest = (data: Uint8Array): string =>
  createHash('sha256').update(data).digest('hex').slice(0, 16);
