import { randomUUID } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import pino from 'pino';
import { conversationIdOf } from '../src/adapters/ids.ts';
import { authenticate, createSource } from '../src/adapters/sources/sources.ts';
import { startApp } from '../src/app/app.ts';
import { loadConfig } from '../src/app/config.ts';
import { conversationStream } from '../src/domain/events.ts';
import { startBenchDatabase } from '../bench/support.ts';

const db = await startBenchDatabase(8);
const wait = process.env.WAIT ?? '2000';
const app = await startApp(loadConfig({ DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1', API_RATE_LIMIT_PER_MINUTE: '1000000000', LOG_LEVEL: 'silent', API_WRITE_WAIT_MS: wait }), pino({ level: 'silent' }));
const { token } = await createSource(app.log, 'bench', null);
while (!(await authenticate(db.pool, token))) await new Promise((r) => setTimeout(r, 20));
const C = 200;
for (let c = 0; c < C; c++) {
  const clientId = `client-${c}`;
  const conversationId = conversationIdOf('external', 'bench', clientId);
  const meta = () => ({ occurredAt: new Date().toISOString(), correlationId: randomUUID(), causationId: randomUUID(), actor: { kind: 'source', id: 'bench' } });
  const events = [{ id: randomUUID(), type: 'ConversationStarted', data: { conversationId, channel: 'external', source: 'bench', clientId, profile: {} }, metadata: meta() },
    ...Array.from({ length: 100 }, (_, i) => ({ id: randomUUID(), type: 'ClientMessageReceived', data: { messageId: randomUUID(), text: `hello there number ${i} where is my parcel`, attachments: [], suppressed: false }, metadata: meta() }))];
  await app.log.append(conversationStream(conversationId), events, 'no_stream');
}
await new Promise((r) => setTimeout(r, 5000));
const post = async (i: number) => {
  const res = await fetch(`${app.address()}/api/external/client-${(i * 7919) % C}/messages`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ text: `q ${i}` }) });
  await res.arrayBuffer();
  return res.status;
};
const run = async (n: number) => { let next = 0; const st = new Map<number, number>(); await Promise.all(Array.from({ length: 16 }, async () => { for (let i = next++; i < n; i = next++) { const s = await post(i); st.set(s, (st.get(s) ?? 0) + 1); } })); return st; };
await run(300);
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.start');
const t0 = performance.now();
const st = await run(2000);
const ms = performance.now() - t0;
const { profile } = await session.post('Profiler.stop');
writeFileSync('/tmp/api-post.cpuprofile', JSON.stringify(profile));
console.log('rate', (2000 * 1000) / ms, [...st]);
const cpu = process.cpuUsage();
console.log('cpu', cpu);
await app.stop();
await db.stop();
