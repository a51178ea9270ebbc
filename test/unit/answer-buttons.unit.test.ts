// `[[label|url]]` markup in a manager's answer: what becomes a button, what the client reads, and
// what stays as text.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { answerContent, isButtonUrl, parseAnswerButtons } from '../../src/domain/answer-buttons.ts';

const order = { text: 'Open the order', url: 'https://example.com/o/1' };

describe('parseAnswerButtons', () => {
  test('a line of markup becomes a button and leaves the text', () => {
    const parsed = parseAnswerButtons('Your order shipped.\n[[Open the order|https://example.com/o/1]]');
    assert.equal(parsed.text, 'Your order shipped.');
    assert.deepEqual(parsed.buttons, [[order]]);
  });

  test('markup inside a sentence is cut with the space before it', () => {
    const parsed = parseAnswerButtons('See [[Open the order|https://example.com/o/1]] for details');
    assert.equal(parsed.text, 'See for details');
    assert.deepEqual(parsed.buttons, [[order]]);
    assert.equal(parseAnswerButtons('[[Open the order|https://example.com/o/1]] first').text, 'first');
  });

  test('buttons of one line share a row, two at most; each line starts a row', () => {
    const parsed = parseAnswerButtons(
      'Pick one:\n[[A|https://a.example]] [[B|https://b.example]] [[C|https://c.example]]\n[[D|tg://resolve?domain=shop]]\nBye',
    );
    assert.equal(parsed.text, 'Pick one:\nBye');
    assert.deepEqual(
      parsed.buttons.map((row) => row.map((b) => b.text)),
      [['A', 'B'], ['C'], ['D']],
    );
  });

  test('past the sixth row the markup stays as text', () => {
    const lines = Array.from({ length: 8 }, (_, i) => `[[B${i}|https://example.com/${i}]]`);
    const parsed = parseAnswerButtons(lines.join('\n'));
    assert.equal(parsed.buttons.length, 6);
    assert.equal(parsed.text, '[[B6|https://example.com/6]]\n[[B7|https://example.com/7]]');
  });

  test('malformed markup is left as text', () => {
    const malformed = [
      '[[no bar here]]',
      '[[|https://example.com]]',
      '[[Label|]]',
      '[[Label|ftp://example.com/file]]',
      '[[Label|javascript:alert(1)]]',
      '[[Label|example.com]]',
      '[[Label|https://exa mple.com]]',
      `[[${'x'.repeat(41)}|https://example.com]]`,
      '[[Unclosed|https://example.com]',
      '[Single|https://example.com]',
      '[[Two\nlines|https://example.com]]',
      '[[tg|tg://]]',
    ];
    for (const text of malformed) {
      const parsed = parseAnswerButtons(text);
      assert.deepEqual(parsed.buttons, [], text);
      assert.equal(parsed.text, text);
    }
  });

  test('a label may hold a bar: the address is after the last one', () => {
    assert.deepEqual(parseAnswerButtons('[[Yes | No|http://example.com/q]]').buttons, [
      [{ text: 'Yes | No', url: 'http://example.com/q' }],
    ]);
  });

  test('markup written as code is shown, not turned into a button', () => {
    const text = 'Write `[[label|https://example.com]]` to add a button';
    const entities = [{ type: 'code', offset: 6, length: 30 }];
    const parsed = parseAnswerButtons(text, entities);
    assert.deepEqual(parsed.buttons, []);
    assert.equal(parsed.text, text);
    assert.deepEqual(parsed.entities, entities);
  });

  test('entities move with the text that is left; those inside the markup go', () => {
    // "Hi [[Pay|https://pay.example]] **now**": bold on "now", Telegram's url entity on the address.
    const text = 'Hi [[Pay|https://pay.example]] now';
    const entities = [
      { type: 'url', offset: 9, length: 19 },
      { type: 'bold', offset: 31, length: 3 },
    ];
    const parsed = parseAnswerButtons(text, entities);
    assert.equal(parsed.text, 'Hi now');
    assert.deepEqual(parsed.entities, [{ type: 'bold', offset: 3, length: 3 }]);
  });

  test('addresses a button may take', () => {
    assert.ok(isButtonUrl('https://example.com/o/1?x=1#y'));
    assert.ok(isButtonUrl('http://localhost:8080/'));
    assert.ok(isButtonUrl('tg://resolve?domain=shop_bot'));
    assert.ok(!isButtonUrl('mailto:a@example.com'));
    assert.ok(!isButtonUrl(`https://example.com/${'a'.repeat(2048)}`));
  });
});

describe('answerContent', () => {
  test('the client reads the text without the markup; the buttons ride along', () => {
    assert.deepEqual(
      answerContent({ text: 'Done.\n[[Open the order|https://example.com/o/1]]', attachments: [] }),
      { text: 'Done.', attachments: [], buttons: [[order]] },
    );
  });

  test('an answer with no markup is unchanged', () => {
    const content = { text: 'plain [[not a button]]', attachments: [] };
    assert.equal(answerContent(content), content);
  });

  test('an answer that is only buttons says their labels', () => {
    assert.deepEqual(
      answerContent({ text: '[[Pay|https://pay.example]] [[Help|https://help.example]]', attachments: [] }),
      {
        text: 'Pay · Help',
        attachments: [],
        buttons: [
          [
            { text: 'Pay', url: 'https://pay.example' },
            { text: 'Help', url: 'https://help.example' },
          ],
        ],
      },
    );
  });

  test('a caption that is only buttons becomes empty: the file carries the message', () => {
    const photo = { kind: 'photo' as const, fileRef: 'AgAD' };
    assert.deepEqual(answerContent({ text: '[[Pay|https://pay.example]]', attachments: [photo] }), {
      text: '',
      attachments: [photo],
      buttons: [[{ text: 'Pay', url: 'https://pay.example' }]],
    });
  });
});
