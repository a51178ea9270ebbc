// Connecting to EventStoreDB / KurrentDB: the connection string checked by the client's own parser
// (so configuration refuses what the client would refuse at start-up), and the client built from it
// plus the operator's settings beside it: a CA file and credentials (docs/design.md, "The
// EventStoreDB event log").
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ChannelCredentialOptions, type Credentials, EventStoreDBClient } from '@eventstore/db-client';
import {
  type ConnectionOptions,
  parseConnectionString,
} from '@eventstore/db-client/dist/Client/parseConnectionString.js';

export interface EsdbConnectionSettings {
  /** `esdb://host:2113?tls=false`, `esdb+discover://…`; credentials may be in it or given below. */
  readonly connectionString: string;
  /** PEM file of the CA that signed the node's certificate (TLS), instead of `tlsCAFile` in the URL. */
  readonly caFile?: string | undefined;
  /** Credentials instead of the ones in the URL (reading $all needs a user allowed to). */
  readonly username?: string | undefined;
  readonly password?: string | undefined;
}

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
    return parseConnectionString(text);
  } catch (error) {
    const { expected, location } = error as { expected?: unknown; location?: unknown };
    const at = Array.isArray(location) ? ` at character ${Number(location[0]) + 1}` : '';
    throw new EsdbConnectionError(
      `must be a connection string the client accepts, esdb://host:2113?tls=false or esdb+discover://host:2113 (expected ${String(expected ?? 'esdb://')}${at})`,
    );
  }
};

const readPem = (path: string, what: string): Buffer => {
  try {
    return readFileSync(resolve(path));
  } catch (error) {
    throw new EsdbConnectionError(`cannot read the ${what} ${path}: ${(error as Error).message}`);
  }
};

/** The client for these settings: the same as the client's own `connectionString()`, plus the CA and credentials given apart. */
export const createEsdbClient = (settings: EsdbConnectionSettings): EventStoreDBClient => {
  const o = parseEsdbConnectionString(settings.connectionString);
  const channel: ChannelCredentialOptions = { insecure: o.tls === false };
  const caFile = settings.caFile ?? o.tlsCAFile;
  if (caFile && !channel.insecure) channel.rootCertificate = readPem(caFile, 'CA file');
  if (o.userCertFile || o.userKeyFile) {
    if (!o.userCertFile || !o.userKeyFile)
      throw new EsdbConnectionError('userCertFile must be given with userKeyFile');
    channel.userCertFile = readPem(o.userCertFile, 'user certificate');
    channel.userKeyFile = readPem(o.userKeyFile, 'user key');
  }
  const credentials: Credentials | undefined =
    settings.username !== undefined
      ? { username: settings.username, password: settings.password ?? '' }
      : o.defaultCredentials;
  const common = {
    throwOnAppendFailure: o.throwOnAppendFailure,
    keepAliveInterval: o.keepAliveInterval,
    keepAliveTimeout: o.keepAliveTimeout,
    defaultDeadline: o.defaultDeadline,
    connectionName: o.connectionName,
  };
  const discovery = {
    nodePreference: o.nodePreference,
    discoveryInterval: o.discoveryInterval,
    gossipTimeout: o.gossipTimeout,
    maxDiscoverAttempts: o.maxDiscoverAttempts,
  };
  const [first] = o.hosts;
  if (!first) throw new EsdbConnectionError('names no host');
  if (o.dnsDiscover)
    return new EventStoreDBClient({ discover: first, ...discovery, ...common }, channel, credentials);
  if (o.hosts.length > 1)
    return new EventStoreDBClient({ endpoints: o.hosts, ...discovery, ...common }, channel, credentials);
  return new EventStoreDBClient({ endpoint: first, ...common }, channel, credentials);
};

/** Where the settings point, for log lines: hosts only, never credentials. */
export const describeEsdbTarget = (connectionString: string): string => {
  try {
    const o = parseEsdbConnectionString(connectionString);
    const hosts = o.hosts.map((h) => `${h.address}:${h.port}`).join(',');
    return `${o.dnsDiscover ? 'esdb+discover' : 'esdb'}://${hosts}`;
  } catch {
    return 'EventStoreDB';
  }
};
