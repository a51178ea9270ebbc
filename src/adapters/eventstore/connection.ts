// Connecting to EventStoreDB / KurrentDB: the client built from the connection string (checked in
// connection-string.ts) plus the operator's settings beside it, a CA file and credentials
// (docs/design.md, "The EventStoreDB event log").
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ChannelCredentialOptions, type Credentials, EventStoreDBClient } from '@eventstore/db-client';
import { EsdbConnectionError, parseEsdbConnectionString } from './connection-string.ts';

export interface EsdbConnectionSettings {
  /** `esdb://host:2113?tls=false`, `esdb+discover://…`; credentials may be in it or given below. */
  readonly connectionString: string;
  /** PEM file of the CA that signed the node's certificate (TLS), instead of `tlsCAFile` in the URL. */
  readonly caFile?: string | undefined;
  /** Credentials instead of the ones in the URL (reading $all needs a user allowed to). */
  readonly username?: string | undefined;
  readonly password?: string | undefined;
}

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
