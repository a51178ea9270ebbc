// Start-up on EventStoreDB waits for the node to serve reads (docs/design.md, "The EventStoreDB event
// log"): a KurrentDB node passes its HTTP health check before it does, so openEsdbEventLog pings it
// until EVENTSTORE_START_TIMEOUT_MS, logging each try without credentials, and then gives up with an
// error naming the setting. The stand-in, silenced, is a node that accepts connections and answers
// nothing yet.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/app/config.ts';
import { openEsdbEventLog } from '../../src/app/context.ts';
import { type EsdbStandIn, startEsdbStandIn } from '../support/esdb-stand-in.ts';
import { testLogger } from '../support/test-logger.ts';

describe('start-up waits for EventStoreDB to serve reads', () => {
  let esdb: EsdbStandIn;
  before(async () => {
    esdb = await startEsdbStandIn();
  });
  after(() => esdb?.stop());

  const configFor = (startTimeoutMs: number) =>
    loadConfig({
      EVENT_STORE: 'esdb',
      // Credentials in the URL: the log lines name the node, never them.
      EVENTSTORE_URL: esdb.url.replace('esdb://', 'esdb://admin:s3cret-pa55@'),
      EVENTSTORE_PING_TIMEOUT_MS: '300',
      EVENTSTORE_START_TIMEOUT_MS: String(startTimeoutMs),
    });

  it('a node that does not answer yet: it waits, saying so, and goes on once the node serves', async () => {
    const capture = testLogger('info');
    const config = configFor(20_000);
    esdb.silence(true);
    const opening = openEsdbEventLog(config, capture.loggerFor(config));
    await new Promise((r) => setTimeout(r, 2500));
    esdb.silence(false);
    const log = await opening;
    await log.close();
    const waiting = capture.lines.filter((l) =>
      l.includes('event log: waiting for EventStoreDB at esdb://127.0.0.1:'),
    );
    assert.ok(waiting.length >= 1, capture.lines.join(''));
    assert.ok(
      capture.lines.some((l) => /event log: EventStoreDB at esdb:\/\/127\.0\.0\.1:\d+ serves reads/.test(l)),
    );
    for (const line of capture.lines) assert.equal(line.includes('s3cret-pa55'), false, line);
  });

  it('a node that never answers: start-up fails after EVENTSTORE_START_TIMEOUT_MS, naming it', async () => {
    const config = configFor(1500);
    esdb.silence(true);
    try {
      const started = Date.now();
      await assert.rejects(
        openEsdbEventLog(config),
        /^Error: EventStoreDB at esdb:\/\/127\.0\.0\.1:\d+ did not serve reads within EVENTSTORE_START_TIMEOUT_MS \(1500 ms\)/,
      );
      assert.ok(Date.now() - started < 5000, 'gave up at about the timeout');
    } finally {
      esdb.silence(false);
    }
  });
});
