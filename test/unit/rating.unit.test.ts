// Satisfaction (CSAT) decided given/when/then (docs/design.md, "Satisfaction (CSAT)"): one request per
// closing, a rating taken once and only while the conversation stays closed, a comment once after
// it; the comment window; the buttons each channel sends; how the audit words the events.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { commentOf, ratingOf, ratingRequestIdOf } from '../../src/adapters/csat.ts';
import { ratingKeyboard as telegramKeyboard } from '../../src/adapters/telegram/rating.ts';
import { ratingPayloadOf, ratingKeyboard as vkKeyboard } from '../../src/adapters/vk/rating.ts';
import type { ConversationCommand } from '../../src/domain/conversation.ts';
import { foldConversation } from '../../src/domain/conversation-fold.ts';
import type { ConversationEvent } from '../../src/domain/events.ts';
import { awaitingRatingComment, ratingOpen } from '../../src/domain/rating.ts';
import { summarize } from '../../src/projections/history-summary.ts';
import { clientRef, given, received, started, text } from './conversation-fixtures.ts';

const closed: ConversationEvent = { type: 'ConversationClosed', data: {} };
const reopened: ConversationEvent = { type: 'ConversationReopened', data: {} };
const requestCmd = (requestId: string): ConversationCommand => ({
  type: 'RecordRatingRequested',
  requestId,
  channelMessage: clientRef('900'),
});
const requested = (requestId: string): ConversationEvent => ({
  type: 'RatingRequested',
  data: { requestId, channelMessage: clientRef('900') },
});
const rate = (requestId: string, rating: number): ConversationCommand => ({
  type: 'RateConversation',
  requestId,
  rating,
});
const rated = (requestId: string, rating: number): ConversationEvent => ({
  type: 'ConversationRated',
  data: { requestId, rating },
});
const comment = (requestId: string, value: string): ConversationCommand => ({
  type: 'CommentRating',
  requestId,
  text: value,
});
const commented = (requestId: string, value: string): ConversationEvent => ({
  type: 'RatingCommented',
  data: { requestId, text: value },
});

describe('RecordRatingRequested', () => {
  test('given a closed conversation, when the prompt went out, then the request is recorded', () => {
    given([started, received('m1'), closed])
      .when(requestCmd('r1'))
      .then([requested('r1')]);
  });

  test('given the request was recorded, when it is reported again, then nothing is recorded', () => {
    given([started, closed, requested('r1')])
      .when(requestCmd('r1'))
      .then([]);
  });

  test('given the conversation reopened before the prompt was recorded, then nobody is asked', () => {
    given([started, closed, reopened]).when(requestCmd('r1')).then([]);
  });

  test('given a later closing, when its request is recorded, then it replaces the earlier one', () => {
    given([started, closed, requested('r1'), rated('r1', 2), reopened, closed])
      .when(requestCmd('r2'))
      .then([requested('r2')]);
  });
});

describe('RateConversation', () => {
  test('given a request, when the client rates, then the rating is recorded', () => {
    given([started, closed, requested('r1')])
      .when(rate('r1', 4))
      .then([rated('r1', 4)]);
  });

  test('given it was rated, when the same rating comes again, then nothing is recorded twice', () => {
    given([started, closed, requested('r1'), rated('r1', 4)])
      .when(rate('r1', 4))
      .then([]);
  });

  test('given it was rated, when another rating comes, then it is refused', () => {
    given([started, closed, requested('r1'), rated('r1', 4)])
      .when(rate('r1', 1))
      .then('already_rated');
  });

  test('given the conversation reopened, when the client presses the old prompt, then it is refused', () => {
    given([started, closed, requested('r1'), reopened])
      .when(rate('r1', 5))
      .then('rating_not_requested');
    given([started, closed, requested('r1'), received('m2'), reopened, closed])
      .when(rate('r1', 5))
      .then('rating_not_requested');
  });

  test('given an earlier closing, when its prompt is pressed after a later request, then it is refused', () => {
    given([started, closed, requested('r1'), reopened, closed, requested('r2')])
      .when(rate('r1', 3))
      .then('rating_not_requested');
    given([started, closed, requested('r1'), reopened, closed, requested('r2')])
      .when(rate('r2', 3))
      .then([rated('r2', 3)]);
  });

  test('given nobody was asked, when a rating comes, then it is refused', () => {
    given([started, closed]).when(rate('r1', 3)).then('rating_not_requested');
    given([]).when(rate('r1', 3)).then('conversation_not_started');
  });

  test('a rating is an integer from 1 to 5', () => {
    for (const bad of [0, 6, 2.5, Number.NaN, -1])
      given([started, closed, requested('r1')])
        .when(rate('r1', bad))
        .then('invalid_rating');
  });
});

describe('CommentRating', () => {
  test('given a rating, when the client comments, then the comment is recorded once', () => {
    given([started, closed, requested('r1'), rated('r1', 5)])
      .when(comment('r1', '  Quick, thanks!  '))
      .then([commented('r1', 'Quick, thanks!')]);
    given([started, closed, requested('r1'), rated('r1', 5), commented('r1', 'Quick, thanks!')])
      .when(comment('r1', 'Quick, thanks!'))
      .then([]);
    given([started, closed, requested('r1'), rated('r1', 5), commented('r1', 'Quick, thanks!')])
      .when(comment('r1', 'Something else'))
      .then('already_commented');
  });

  test('a comment follows a rating of an open request, and has text', () => {
    given([started, closed, requested('r1')])
      .when(comment('r1', 'hm'))
      .then('not_rated');
    given([started, closed, requested('r1'), rated('r1', 5), reopened])
      .when(comment('r1', 'hm'))
      .then('rating_not_requested');
    given([started, closed, requested('r1'), rated('r1', 5)])
      .when(comment('r1', '   '))
      .then('invalid_comment');
    given([started, closed, requested('r1'), rated('r1', 5)])
      .when(comment('r1', 'x'.repeat(1001)))
      .then('invalid_comment');
  });
});

describe('the rating in the state', () => {
  const at = (event: ConversationEvent, when: string) => ({ event, at: when });

  test('a request is open while the conversation stays closed; the rating keeps when it was given', () => {
    const asked = foldConversation([started, closed, requested('r1')]);
    assert.equal(ratingOpen(asked)?.requestId, 'r1');
    const done = foldConversation([
      started,
      closed,
      requested('r1'),
      at(rated('r1', 4), '2026-01-01T12:00:00.000Z'),
    ]);
    assert.equal(ratingOpen(done), undefined);
    assert.deepEqual(done.rating, {
      requestId: 'r1',
      open: true,
      rating: 4,
      ratedAt: '2026-01-01T12:00:00.000Z',
    });
    assert.equal(foldConversation([started, closed, requested('r1'), reopened]).rating?.open, false);
  });

  test("the client's next text within the window is the comment; files, later, or reopened are not", () => {
    const csat = { enabled: true, commentWindowMs: 10 * 60_000 };
    const state = foldConversation([
      started,
      closed,
      requested('r1'),
      at(rated('r1', 4), '2026-01-01T12:00:00.000Z'),
    ]);
    const soon = new Date('2026-01-01T12:05:00.000Z');
    const late = new Date('2026-01-01T12:10:01.000Z');
    assert.equal(commentOf(state, text(' Great help '), soon, csat), 'Great help');
    assert.equal(commentOf(state, text('Great help'), late, csat), undefined);
    assert.equal(commentOf(state, text('Great help'), soon, { ...csat, commentWindowMs: 0 }), undefined);
    assert.equal(
      commentOf(state, { text: 'see photo', attachments: [{ kind: 'photo', fileRef: 'f' }] }, soon, csat),
      undefined,
    );
    assert.equal(
      awaitingRatingComment(foldConversation([reopened], state), soon, csat.commentWindowMs),
      false,
    );
    const withComment = foldConversation([commented('r1', 'Great help')], state);
    assert.equal(awaitingRatingComment(withComment, soon, csat.commentWindowMs), false);
    assert.equal(withComment.rating?.comment, 'Great help');
  });
});

describe('the prompts', () => {
  const requestId = ratingRequestIdOf('5b1f0c2e-8d3a-5e4f-9a61-2c7d0e3f4b5a');

  test("one request per closing: its id is derived from the closing's event", () => {
    assert.equal(requestId, ratingRequestIdOf('5b1f0c2e-8d3a-5e4f-9a61-2c7d0e3f4b5a'));
    assert.notEqual(requestId, ratingRequestIdOf('6b1f0c2e-8d3a-5e4f-9a61-2c7d0e3f4b5a'));
  });

  test("Telegram: one row of 1 to 5, each callback_data within Telegram's 64 bytes", () => {
    const [row] = telegramKeyboard(requestId);
    assert.deepEqual(
      row!.map((b) => b.text),
      ['1', '2', '3', '4', '5'],
    );
    for (const b of row!) {
      assert.ok('callback_data' in b);
      assert.ok(Buffer.byteLength(b.callback_data) <= 64, b.callback_data);
    }
  });

  test('VK: an inline keyboard of five callback buttons whose payload names the request', () => {
    const keyboard = JSON.parse(vkKeyboard(requestId)) as {
      inline: boolean;
      buttons: { action: { type: string; label: string; payload: string } }[][];
    };
    assert.equal(keyboard.inline, true);
    assert.equal(keyboard.buttons.length, 1);
    const row = keyboard.buttons[0]!;
    assert.deepEqual(
      row.map((b) => [b.action.type, b.action.label]),
      [1, 2, 3, 4, 5].map((n) => ['callback', String(n)]),
    );
    assert.deepEqual(ratingPayloadOf(JSON.parse(row[3]!.action.payload)), { requestId, rating: 4 });
    assert.ok(row.every((b) => b.action.payload.length <= 255));
    assert.equal(ratingPayloadOf({ csat: requestId, rating: 7 }), undefined);
    assert.equal(ratingPayloadOf({ other: 1 }), undefined);
    assert.equal(ratingOf('3'), 3);
    assert.equal(ratingOf('03'), undefined);
  });
});

test('the audit words the rating events', () => {
  assert.equal(summarize(requested('r1')), 'client asked to rate the conversation');
  assert.equal(summarize(rated('r1', 4)), 'client rated the conversation 4/5');
  assert.equal(summarize(commented('r1', 'Quick')), 'client commented on their rating: "Quick"');
});
