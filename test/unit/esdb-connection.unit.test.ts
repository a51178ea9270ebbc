// The operator's EventStoreDB settings reach the client: a node with TLS whose certificate a private
// CA signed is trusted through EVENTSTORE_CA_FILE (and not without it), and EVENTSTORE_USERNAME /
// EVENTSTORE_PASSWORD arrive as the node expects them, from configuration through start-up's
// openEsdbEventLog. The node is a gRPC server on the client's own service definition, with a
// certificate made by openssl for 127.0.0.1.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StreamsService } from '@eventstore/db-client/generated/streams_grpc_pb.js';
import * as grpc from '@grpc/grpc-js';
import { createEsdbClient } from '../../src/adapters/eventstore/connection.ts';
import { createEsdbEventLog } from '../../src/adapters/eventstore/esdb-event-log.ts';
import { loadConfig } from '../../src/app/config.ts';
import { openEsdbEventLog } from '../../src/app/context.ts';

describe('EventStoreDB over TLS with a CA file and credentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'topicdesk-esdb-tls-'));
  const caFile = join(dir, 'ca.crt');
  const server = new grpc.Server();
  /** The authorization header of each read the node answered. */
  const authorizations: string[] = [];
  let url = '';

  before(async () => {
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const req = ['req', '-newkey', 'rsa:2048', '-nodes'];
    openssl(
      ...req,
      '-x509',
      '-days',
      '1',
      '-subj',
      '/CN=topicdesk test CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
    );
    openssl(...req, '-subj', '/CN=localhost', '-keyout', 'node.key', '-out', 'node.csr');
    writeFileSync(join(dir, 'node.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    openssl(
      ...['x509', '-req', '-in', 'node.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial'],
      ...['-days', '1', '-extfile', 'node.ext', '-out', 'node.crt'],
    );
    server.addService(StreamsService, {
      // Every read (ping() reads $all backwards for one event) ends at once: an empty log.
      read(call: grpc.ServerWritableStream<unknown, unknown>) {
        authorizations.push(String(call.metadata.get('authorization')[0] ?? ''));
        call.end();
      },
    });
    const credentials = grpc.ServerCredentials.createSsl(null, [
      { cert_chain: readFileSync(join(dir, 'node.crt')), private_key: readFileSync(join(dir, 'node.key')) },
    ]);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', credentials, (error, p) => (error ? reject(error) : resolve(p))),
    );
    // By host name: Node 26 refuses an IP address as a TLS server name (config says so too).
    url = `esdb://localhost:${port}`;
  });
  after(() => {
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('trusts the node through EVENTSTORE_CA_FILE, and sends EVENTSTORE_USERNAME / PASSWORD', async () => {
    const config = loadConfig({
      EVENT_STORE: 'esdb',
      EVENTSTORE_URL: url,
      EVENTSTORE_CA_FILE: caFile,
      EVENTSTORE_USERNAME: 'ops',
      EVENTSTORE_PASSWORD: 'ch4nge-it-please',
      EVENTSTORE_START_TIMEOUT_MS: '0',
    });
    authorizations.length = 0;
    const log = await openEsdbEventLog(config);
    try {
      await log.ping();
      assert.ok(authorizations.length >= 1);
      for (const a of authorizations)
        assert.equal(a, `Basic ${Buffer.from('ops:ch4nge-it-please').toString('base64')}`);
    } finally {
      await log.close();
    }
  });

  it('without the CA file the node is not trusted: ping fails', async () => {
    const log = createEsdbEventLog({ connectionString: url, pingTimeoutMs: 2000 });
    try {
      await assert.rejects(log.ping());
    } finally {
      await log.close();
    }
  });

  it('a CA file that cannot be read is an error naming it, before any call', () => {
    assert.throws(
      () => createEsdbClient({ connectionString: url, caFile: join(dir, 'missing.crt') }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'invalid_esdb_connection');
        assert.match(e.message, /cannot read the CA file .*missing\.crt/);
        return true;
      },
    );
  });
});
