// The webhook signature as a source's developer meets it: the README's verification snippets, run as
// printed, accept what the service signs and refuse a changed body, secret, timestamp or delivery id.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { signatureHeader, verifyWebhook } from '../../src/adapters/webhooks/signature.ts';

const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

/** The fenced block after `<!-- webhook-verify:<name> -->` in the README. */
const snippet = (name: string): string => {
  const m = new RegExp(`<!-- webhook-verify:${name} -->\\s*\`\`\`\\w+\\n([\\s\\S]*?)\\n\`\`\``).exec(readme);
  assert.ok(m, `the README has a ${name} verification snippet`);
  return m[1]!;
};

const dir = mkdtempSync(join(tmpdir(), 'topicdesk-signature-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const secret = 'whsec_K7q1YbVt0sR3mPzXc9LwNe2fHu5aJd8G';
const body =
  '{"event":"message.created","source":"shop","external_id":"user-4711","message":{"text":"Привет"}}';
const deliveryId = randomUUID();
const now = () => Math.floor(Date.now() / 1000);

/** Cases each snippet must judge, with what it must say. */
const cases = () => {
  const t = now();
  const header = signatureHeader([secret], t, deliveryId, body);
  const other = randomUUID();
  return [
    { name: 'genuine', secret, header, body, expect: deliveryId },
    { name: 'body changed', secret, header, body: body.replace('Привет', 'Прощай'), expect: null },
    { name: 'wrong secret', secret: `${secret}x`, header, body, expect: null },
    {
      name: 'delivery id changed',
      secret,
      header: header.replace(`d=${deliveryId}`, `d=${other}`),
      body,
      expect: null,
    },
    { name: 'timestamp changed', secret, header: header.replace(`t=${t}`, `t=${t - 1}`), body, expect: null },
    {
      name: 'too old',
      secret,
      header: signatureHeader([secret], t - 3600, deliveryId, body),
      body,
      expect: null,
    },
    {
      name: 'two secrets (rotation), ours second',
      secret,
      header: signatureHeader(['whsec_someone_elses_secret_000000', secret], t, deliveryId, body),
      body,
      expect: deliveryId,
    },
    {
      name: 'the old scheme (sha256=) is refused',
      secret,
      header: `sha256=${'0'.repeat(64)}`,
      body,
      expect: null,
    },
    { name: 'no header', secret, header: '', body, expect: null },
  ];
};

describe('webhook signature', () => {
  it('covers the delivery id: t=<ts>,d=<id>,v1=<HMAC of "<ts>.<id>.<body>">', () => {
    const header = signatureHeader([secret], 1_767_225_600, deliveryId, body);
    assert.match(header, new RegExp(`^t=1767225600,d=${deliveryId},v1=[0-9a-f]{64}$`));
    const at = { now: new Date(1_767_225_600_000) };
    assert.deepEqual(verifyWebhook(secret, header, body, at), { timestamp: 1_767_225_600, deliveryId });
    const replayed = header.replace(deliveryId, randomUUID());
    assert.equal(verifyWebhook(secret, replayed, body, at), undefined, 'a new delivery id breaks it');
  });

  it('the service’s own verifyWebhook judges every case as the README says', () => {
    for (const c of cases())
      assert.equal(verifyWebhook(c.secret, c.header, c.body)?.deliveryId ?? null, c.expect, c.name);
  });

  it('the README’s Node snippet, run as printed, judges every case', async () => {
    const file = join(dir, 'verify.mjs');
    writeFileSync(file, snippet('node'));
    const { verifyTopicdeskWebhook } = (await import(file)) as {
      verifyTopicdeskWebhook: (s: string, h: string, b: Buffer) => { deliveryId: string } | null;
    };
    for (const c of cases())
      assert.equal(
        verifyTopicdeskWebhook(c.secret, c.header, Buffer.from(c.body))?.deliveryId ?? null,
        c.expect,
        c.name,
      );
  });

  const python = spawnSync('python3', ['--version']).status === 0;
  it('the README’s Python snippet, run as printed, judges every case', {
    skip: !python && 'no python3 on this machine',
  }, () => {
    const all = cases();
    const program = `${snippet('python')}

import json, sys
cases = json.load(sys.stdin)
print(json.dumps([(verify_topicdesk_webhook(c["secret"], c["header"], c["body"].encode()) or {}).get("delivery_id") for c in cases]))
`;
    const run = spawnSync('python3', ['-c', program], { input: JSON.stringify(all), encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const got = JSON.parse(run.stdout) as (string | null)[];
    all.forEach((c, i) => {
      assert.equal(got[i], c.expect, c.name);
    });
  });
});
