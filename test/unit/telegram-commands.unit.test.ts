// What a topic message is before anything is sent: a command of ours, another bot's, a typo, a note
// or an answer; the formatting a command's text keeps; the help list from the one command table.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Message, MessageEntity } from 'grammy/types';
import {
  commandList,
  entitiesFrom,
  MANAGER_COMMANDS,
  managerCommandNames,
  readTopicInput,
} from '../../src/adapters/telegram/commands.ts';
import { catalogue, locales, placeholdersOf } from '../../src/texts/catalogue.ts';
import { shippedTexts } from '../../src/texts/texts.ts';

/** The topic's texts in `locale`, as the bot writes them without overrides. */
const topicTexts = (locale: 'en' | 'ru') => {
  const texts = shippedTexts(locale);
  return (key: Parameters<typeof texts.topic>[0], vars?: Parameters<typeof texts.topic>[1]) =>
    texts.topic(key, vars);
};

const topicMessage = (text: string | undefined, extra: Partial<Message> = {}): Message =>
  ({
    message_id: 77,
    message_thread_id: 75,
    is_topic_message: true,
    from: { id: 3001, is_bot: false, first_name: 'Olga' },
    chat: { id: -1001234567890, type: 'supergroup', title: 'Support', is_forum: true },
    date: 1_735_689_700,
    ...(text === undefined ? {} : { text }),
    ...extra,
  }) as Message;

const read = (text: string | undefined, prefix = '//', extra: Partial<Message> = {}) =>
  readTopicInput(topicMessage(text, extra), 'DeskBot', prefix);

describe('readTopicInput', () => {
  it('recognises each command, bare and addressed to this bot, case-insensitive', () => {
    for (const name of managerCommandNames) {
      assert.deepEqual(read(`/${name}`), {
        kind: 'command',
        command: name,
        args: '',
        argsOffset: name.length + 1,
      });
      assert.equal(read(`/${name.toUpperCase()}@deskbot`).kind, 'command');
    }
  });

  it('keeps the arguments and where they start', () => {
    assert.deepEqual(read('/ban   spam and insults  '), {
      kind: 'command',
      command: 'ban',
      args: 'spam and insults',
      argsOffset: 7,
    });
    assert.deepEqual(read('/send@DeskBot /start now'), {
      kind: 'command',
      command: 'send',
      args: '/start now',
      argsOffset: 14,
    });
    assert.deepEqual(read('/note\nline one\nline two'), {
      kind: 'command',
      command: 'note',
      args: 'line one\nline two',
      argsOffset: 6,
    });
  });

  it('a slash that names no command of ours is never an answer: a typo, or a command Telegram did not mark', () => {
    assert.deepEqual(read('/clsoe'), { kind: 'unknown', command: '/clsoe' });
    assert.deepEqual(read('/закрыть'), { kind: 'unknown', command: '/закрыть' });
    assert.deepEqual(read('/ hello'), { kind: 'unknown', command: '/' });
    assert.deepEqual(read('/start@OtherBot'), { kind: 'other-bot' });
  });

  it('the note prefix makes a note; empty turns it off; another prefix works', () => {
    assert.deepEqual(read('// checked the warehouse'), { kind: 'note', text: 'checked the warehouse' });
    assert.deepEqual(read('//'), { kind: 'note', text: '' });
    // Off, a text starting with slashes is still no answer.
    assert.deepEqual(read('// x', ''), { kind: 'unknown', command: '//' });
    assert.deepEqual(read('!! team only', '!!'), { kind: 'note', text: 'team only' });
    assert.deepEqual(read('hello // not a note'), { kind: 'answer' });
  });

  it('anything else is an answer; captions are not read', () => {
    assert.deepEqual(read('Hello, your order ships today'), { kind: 'answer' });
    assert.deepEqual(read('please /close'), { kind: 'answer' });
    assert.deepEqual(read(undefined, '//', { caption: '/close', photo: [] }), { kind: 'answer' });
    assert.deepEqual(read(undefined, '//', { caption: '// internal', photo: [] }), { kind: 'answer' });
  });
});

describe('entitiesFrom', () => {
  const bold = (offset: number, length: number): MessageEntity => ({ type: 'bold', offset, length });

  it("moves what follows the command to the start, without the command's own entity", () => {
    const entities: MessageEntity[] = [{ type: 'bot_command', offset: 0, length: 5 }, bold(6, 4)];
    assert.deepEqual(entitiesFrom(entities, 6, 10), [bold(0, 4)]);
  });

  it('cuts entities at both ends; none left is undefined', () => {
    assert.deepEqual(entitiesFrom([bold(2, 10)], 6, 3), [bold(0, 3)]);
    assert.equal(entitiesFrom([bold(0, 3)], 6, 3), undefined);
    assert.equal(entitiesFrom(undefined, 0, 3), undefined);
  });
});

describe('the help list', () => {
  it('has a line per command from the table, in each language, and the prefix when it is on', async () => {
    for (const locale of locales) {
      const lines = (await commandList(topicTexts(locale), '//')).split('\n');
      assert.equal(lines.length, managerCommandNames.length + 1);
      for (const [i, name] of managerCommandNames.entries())
        assert.ok(lines[i]!.startsWith(`/${name}`), lines[i]);
      assert.ok(lines.at(-1)!.includes('//'));
      assert.equal(
        (await commandList(topicTexts(locale), '')).split('\n').length,
        managerCommandNames.length,
      );
    }
    assert.match(await commandList(topicTexts('ru'), '//'), /\/note <текст> — внутренняя заметка/);
  });

  it("each command's catalogue entry uses only its variables, in English and Russian", () => {
    for (const key of Object.values(MANAGER_COMMANDS)) {
      const entry = catalogue[key];
      for (const text of [entry.en, entry.ru]) {
        assert.ok(text, `${key} has a text`);
        assert.deepEqual(placeholdersOf(text), ['command'], key);
      }
    }
  });
});
