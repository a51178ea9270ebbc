// Uploads do not cost memory by their size: the app runs as a child process (as `npm start` runs
// it) and takes N parallel uploads of the most and largest files it allows, while this test samples
// the child's resident memory (VmRSS in /proc/<pid>/status) every few milliseconds. With the
// Telegram stand-in the files are spooled to disk and streamed on to Telegram; without Telegram they
// are refused (503) at the first file part. Either way the peak stays within a fixed margin over the
// resting process, whatever N × size is — and the spool directory is left empty, aborted uploads too.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPgEventLog } from '../../src/adapters/postgres/pg-event-log.ts';
import { authenticate, createSource } from '../../src/adapters/sources/sources.ts';
import type { EventLog } from '../../src/domain/event-log.ts';
import { telegramStandInEnv } from '../support/app-env.ts';
import { waitFor } from '../support/app-harness.ts';
import { type AppProcess, startAppProcess } from '../support/app-process.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { startTelegramStandIn, type TelegramStandIn } from '../support/telegram-stand-in.ts';

const MiB = 1024 * 1024;
/** Uploads at once, each with the most files of the largest size: 6 × 4 × 6 MiB = 144 MiB. */
const PARALLEL = 6;
const MAX_FILES = 4;
const MAX_FILE_BYTES = 6 * MiB;
/**
 * What the uploads may add to the resting process's memory: stream buffers, socket reads and the
 * parser's garbage until the collector takes them (about 35 MiB on Node 20, for 12 uploads as for
 * 6; 66 MiB on Node 26, whose young generation grows larger before a collection: 45 MiB with
 * `--max-semi-space-size=4`). Fixed, and well below the 144 MiB the bodies hold: buffering them
 * cannot pass (the code that did peaked 120–170 MiB over).
 */
const MARGIN = 80 * MiB;

const rssOf = (pid: number): number => {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, `VmRSS of ${pid}`);
  return Number(m[1]) * 1024;
};

/** The child's peak resident memory while `work` runs, sampled every 5 ms. */
const peakRssDuring = async <T>(
  pid: number,
  work: () => Promise<T>,
): Promise<{ peak: number; result: T }> => {
  let peak = rssOf(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssOf(pid));
  }, 5);
  try {
    const result = await work();
    peak = Math.max(peak, rssOf(pid));
    return { peak, result };
  } finally {
    clearInterval(timer);
  }
};

const file = new Blob([Buffer.alloc(MAX_FILE_BYTES, 7)], { type: 'application/octet-stream' });
const maxForm = () => {
  const form = new FormData();
  form.append('text', 'the biggest upload there is');
  for (let i = 0; i < MAX_FILES; i++) form.append('files', file, `scan-${i}.bin`);
  return form;
};

const upload = async (app: AppProcess, token: string, externalId: string, form: FormData) => {
  const res = await fetch(`${app.url}/api/external/${externalId}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as { attachments?: unknown[]; detail?: string } };
};

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

describe('uploads and memory: the app as a child process', () => {
  let db: TestDatabase;
  let tg: TelegramStandIn;
  let log: EventLog;
  let spool: string;
  const apps: AppProcess[] = [];

  before(async () => {
    db = await createTestDatabase({ migrate: false });
    tg = await startTelegramStandIn();
    log = createPgEventLog({ pool: db.pool, connectionString: db.url });
    spool = await mkdtemp(join(tmpdir(), 'topicdesk-spool-test-'));
  });
  after(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await log?.close();
    await tg?.close();
    await db?.drop();
    if (spool) await rm(spool, { recursive: true, force: true });
  });

  const start = async (name: string, env: Record<string, string>) => {
    const app = await startAppProcess({
      name,
      env: {
        DATABASE_URL: db.url,
        // The spool is os.tmpdir(): a directory of this test's own, to see it emptied.
        TMPDIR: spool,
        API_RATE_LIMIT_PER_MINUTE: '1000000',
        API_WRITE_WAIT_MS: '20000',
        API_MAX_FILES: String(MAX_FILES),
        API_MAX_FILE_BYTES: String(MAX_FILE_BYTES),
        API_MAX_UPLOADS_PER_TOKEN: String(PARALLEL),
        API_MAX_UPLOADS: String(PARALLEL),
        LOG_LEVEL: 'info', // the start-up line says where it listens
        ...env,
      },
    });
    apps.push(app);
    return app;
  };

  const newToken = async (code: string) => {
    const source = await createSource(log, code, null);
    await waitFor(
      `the token of ${code}`,
      async () => ((await authenticate(db.pool, source.token)) ? true : undefined),
      20_000,
    );
    return source.token;
  };

  const spooled = async () => (await readdir(spool)).filter((f) => f.startsWith('topicdesk-upload-'));

  /** The resting process: after a small upload (code paths loaded) and a moment to settle. */
  const restingRss = async (app: AppProcess, warmUp: () => Promise<unknown>) => {
    await warmUp();
    await new Promise((r) => setTimeout(r, 1000));
    return rssOf(app.pid);
  };

  it(`${PARALLEL} parallel uploads of ${MAX_FILES} × ${MAX_FILE_BYTES / MiB} MiB stored in Telegram stay within ${MARGIN / MiB} MiB of the resting process`, async () => {
    const app = await start('upload-telegram', telegramStandInEnv(tg, 'memory_test_secret'));
    const token = await newToken('memory_tg');
    const small = new FormData();
    small.append('files', new Blob([Buffer.alloc(1000)]), 'warm-up.bin');
    const resting = await restingRss(app, () => upload(app, token, 'warm-up', small));

    const { peak, result } = await peakRssDuring(app.pid, () =>
      Promise.all(Array.from({ length: PARALLEL }, (_, i) => upload(app, token, `client-${i}`, maxForm()))),
    );
    for (const r of result) {
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.attachments?.length, MAX_FILES);
    }
    const stored = tg
      .callsTo('sendDocument')
      .filter((c) => c.uploads.some((u) => u.size === MAX_FILE_BYTES && c.status === 200));
    assert.equal(stored.length, PARALLEL * MAX_FILES, 'every file reached Telegram whole');
    console.log(
      `upload memory (Telegram): resting ${mib(resting)}, peak ${mib(peak)} (+${mib(peak - resting)}) ` +
        `for ${mib(PARALLEL * MAX_FILES * MAX_FILE_BYTES)} uploaded`,
    );
    assert.ok(
      peak - resting <= MARGIN,
      `the peak ${mib(peak)} is ${mib(peak - resting)} over the resting ${mib(resting)} (at most ${mib(MARGIN)})`,
    );
    await waitFor('no spooled file left behind', async () =>
      (await spooled()).length === 0 ? true : undefined,
    );
  });

  it('an upload cut off mid-body leaves no spooled file behind', async () => {
    const app = apps[0]!;
    const token = await newToken('memory_abort');
    const boundary = 'abort-boundary';
    const req = httpRequest(`${app.url}/api/external/aborted/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
      },
    });
    req.on('error', () => undefined);
    req.write(
      `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="half.bin"\r\n` +
        `Content-Type: application/octet-stream\r\n\r\n${'x'.repeat(256 * 1024)}`,
    );
    await waitFor('the part being spooled', async () => ((await spooled()).length > 0 ? true : undefined));
    req.destroy();
    await waitFor('the spool emptied', async () => ((await spooled()).length === 0 ? true : undefined));
  });

  it(`without Telegram, ${PARALLEL} parallel uploads of the same size are refused (503) unread, within the same margin`, async () => {
    await Promise.all(apps.splice(0).map((a) => a.stop()));
    const app = await start('upload-no-telegram', {});
    const token = await newToken('memory_bare');
    const small = new FormData();
    small.append('text', 'warm-up');
    small.append('files', new Blob([Buffer.alloc(1000)]), 'warm-up.bin');
    const resting = await restingRss(app, () => upload(app, token, 'warm-up', small));

    const { peak, result } = await peakRssDuring(app.pid, () =>
      Promise.all(Array.from({ length: PARALLEL }, (_, i) => upload(app, token, `client-${i}`, maxForm()))),
    );
    for (const r of result) {
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.match(r.body.detail ?? '', /Telegram is the file store/);
    }
    console.log(
      `upload memory (no Telegram): resting ${mib(resting)}, peak ${mib(peak)} (+${mib(peak - resting)})`,
    );
    assert.ok(
      peak - resting <= MARGIN,
      `the peak ${mib(peak)} is ${mib(peak - resting)} over the resting ${mib(resting)} (at most ${mib(MARGIN)})`,
    );
    assert.deepEqual(await spooled(), [], 'nothing was spooled');
  });
});
