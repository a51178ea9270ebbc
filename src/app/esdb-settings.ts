// How the EventStoreDB settings fit together, checked with the rest of the configuration
// (config.ts): the connection string's TLS and hosts, the CA file, and credentials given once.
import { accessSync, constants } from 'node:fs';
import { isIP } from 'node:net';
import { parseEsdbConnectionString } from '../adapters/eventstore/connection-string.ts';

/** What is wrong between the EventStoreDB settings: the CA file, and credentials given twice or half. */
export function esdbSettingsIssues(c: {
  EVENTSTORE_URL?: string | undefined;
  EVENTSTORE_CA_FILE?: string | undefined;
  EVENTSTORE_USERNAME?: string | undefined;
  EVENTSTORE_PASSWORD?: string | undefined;
}): { path: string[]; message: string }[] {
  const issues: { path: string[]; message: string }[] = [];
  let parsed: ReturnType<typeof parseEsdbConnectionString> | undefined;
  try {
    parsed = c.EVENTSTORE_URL ? parseEsdbConnectionString(c.EVENTSTORE_URL) : undefined;
  } catch {
    return issues; // EVENTSTORE_URL's own check says what is wrong
  }
  // Node 26 refuses an IP address as a TLS server name, so the client could never connect.
  const ipHost = parsed?.hosts.find((h) => isIP(h.address) !== 0);
  if (parsed && parsed.tls !== false && ipHost)
    issues.push({
      path: ['EVENTSTORE_URL'],
      message: `names a node by its IP address (${ipHost.address}) with TLS on: name it by the host name its certificate carries (Node refuses an IP address as a TLS server name), or add tls=false`,
    });
  if (c.EVENTSTORE_CA_FILE) {
    const path = ['EVENTSTORE_CA_FILE'];
    if (parsed?.tls === false)
      issues.push({ path, message: 'is set, but EVENTSTORE_URL has tls=false: no TLS, so no CA to check' });
    else if (parsed?.tlsCAFile)
      issues.push({
        path,
        message: 'is set, and EVENTSTORE_URL has tlsCAFile too: give the CA in one place',
      });
    else {
      try {
        accessSync(c.EVENTSTORE_CA_FILE, constants.R_OK);
      } catch (error) {
        issues.push({
          path,
          message: `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        });
      }
    }
  }
  if (Boolean(c.EVENTSTORE_USERNAME) !== Boolean(c.EVENTSTORE_PASSWORD)) {
    const missing = c.EVENTSTORE_USERNAME ? 'EVENTSTORE_PASSWORD' : 'EVENTSTORE_USERNAME';
    const other = c.EVENTSTORE_USERNAME ? 'EVENTSTORE_USERNAME' : 'EVENTSTORE_PASSWORD';
    issues.push({ path: [missing], message: `is required with ${other}` });
  } else if (c.EVENTSTORE_USERNAME && parsed?.tls === false) {
    issues.push({
      path: ['EVENTSTORE_USERNAME'],
      message: 'is set, but EVENTSTORE_URL has tls=false: the client sends credentials over TLS only',
    });
  } else if (c.EVENTSTORE_USERNAME && parsed?.defaultCredentials) {
    issues.push({
      path: ['EVENTSTORE_USERNAME'],
      message: 'is set, and EVENTSTORE_URL has credentials too: give them in one place',
    });
  }
  return issues;
}
