// The EventStoreDB connection string as the client 6.2 reads it, checked by the client's own parser
// so configuration refuses what the client would refuse at start-up. The parser is loaded on first
// use: configuration is read by every process, most of them never talk to EventStoreDB.
import { createRequire } from 'node:module';
import type { ConnectionOptions } from '@eventstore/db-client/dist/Client/parseConnectionString.js';

type Parse = (connectionString: string) => ConnectionOptions;
let parser: Parse | undefined;
const parse: Parse = (text) => {
  parser ??= (
    createRequire(import.meta.url)('@eventstore/db-client/dist/Client/parseConnectionString.js') as {
      parseConnectionString: Parse;
    }
  ).parseConnectionString;
  return parser(text);
};

/** A connection string or setting the client cannot use. Its message never quotes the string. */
export class EsdbConnectionError extends Error {
  override readonly name = 'EsdbConnectionError';
  readonly code = 'invalid_esdb_connection';
}

/** The query options the client 6.2 reads (compared as it compares them: case, `_` and `-` ignored). */
const knownOptions = [
  'connectionName',
  'defaultDeadline',
  'discoveryInterval',
  'gossipTimeout',
  'keepAliveInterval',
  'keepAliveTimeout',
  'maxDiscoverAttempts',
  'nodePreference',
  'throwOnAppendFailure',
  'tls',
  'tlsCAFile',
  'tlsVerifyCert',
  'userCertFile',
  'userKeyFile',
] as const;
const flat = (key: string) => key.trim().toLowerCase().replace(/[_-]/g, '');
const knownByFlat = new Map<string, string>(knownOptions.map((k) => [flat(k), k]));

/**
 * The connection string as the client reads it, or an error saying what is wrong without quoting it
 * (it may hold a password). Options the client would only warn about on the console, printing the
 * whole string, are refused here: an unknown one, and `tlsVerifyCert=false`, which it ignores.
 */
export type { ConnectionOptions };

export const parseEsdbConnectionString = (text: string): ConnectionOptions => {
  const query = text.includes('?') ? text.slice(text.indexOf('?') + 1) : '';
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const [key = '', value = ''] = pair.split('=');
    const known = knownByFlat.get(flat(key));
    if (!known) {
      throw new EsdbConnectionError(
        `has the option "${key}", which the client does not know (it knows ${knownOptions.join(', ')})`,
      );
    }
    if (known === 'tlsVerifyCert' && value.trim() === 'false') {
      throw new EsdbConnectionError(
        'has tlsVerifyCert=false, which the client ignores: give the CA that signed the node with EVENTSTORE_CA_FILE',
      );
    }
  }
  try {
    return parse(text);
  } catch (error) {
    const { expected, location } = error as { expected?: unknown; location?: unknown };
    const at = Array.isArray(location) ? ` at character ${Number(location[0]) + 1}` : '';
    throw new EsdbConnectionError(
      `must be a connection string the client accepts, esdb://host:2113?tls=false or esdb+discover://host:2113 (expected ${String(expected ?? 'esdb://')}${at})`,
    );
  }
};
