// The production deployment, checked without Docker (none on the development machines): the shape
// of docker-compose.yml, the Dockerfile, .env.example and the CI workflow, and that they agree with
// the configuration schema (src/app/config.ts), with the Node LTS the tests prove (package.json's
// config.nodeLts) and with each other. Hosted CI then builds the image
// and starts the stack for real (.github/workflows/ci.yml).
//
// Each check is a function returning the problems it finds; the last block breaks copies of the
// files on purpose and expects each check to notice, so a check that stops biting fails here too.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import dotenv from 'dotenv';
import { parse } from 'yaml';
import { configVariables, loadConfig } from '../../src/app/config.ts';

const root = join(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

type Map = Record<string, unknown>;
const isMap = (v: unknown): v is Map => typeof v === 'object' && v !== null && !Array.isArray(v);
const asMap = (v: unknown): Map => (isMap(v) ? v : {});
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

/**
 * Variables .env.example may hold that the app does not read: docker compose uses them itself.
 * Each must also be referenced in docker-compose.yml (checked below), so none goes stale.
 */
const composeOnly: Readonly<Record<string, string>> = {
  POSTGRES_PASSWORD:
    'the postgres service creates its user (the owner) with it, and the app service builds DATABASE_OWNER_URL from it',
  POSTGRES_APP_PASSWORD:
    "the postgres service's init script creates the app's role with it, and the app service builds DATABASE_URL from it",
  APP_PORT: 'the host port the app service is published on (`ports:`), which the reverse proxy targets',
};

/** The services docker-compose.yml must run, by name (the app reaches the databases by these names). */
const services = ['eventstore', 'postgres', 'app'] as const;
const databases = ['eventstore', 'postgres'] as const;

/**
 * The programs each health check may start: what is known to exist inside that image. KurrentDB's and
 * EventStoreDB's images install curl for their own HEALTHCHECK (their Dockerfile's runtime stage);
 * postgres ships pg_isready; node:*-slim, the app's base, has no curl but has node.
 */
const probeTools: Readonly<Record<(typeof services)[number], readonly string[]>> = {
  eventstore: ['curl'],
  postgres: ['pg_isready'],
  app: ['node'],
};
/** What each health check must ask for. */
const probes: Readonly<Record<(typeof services)[number], RegExp>> = {
  eventstore: /\/health\/live/,
  postgres: /pg_isready/,
  app: /\/readyz/,
};

// --- reading the files ---------------------------------------------------------------------------

interface EnvExample {
  /** Every variable named on a `NAME=` or `# NAME=` line. */
  readonly documented: readonly string[];
  /** The uncommented assignments, as docker compose and dotenv read them. */
  readonly active: Readonly<Record<string, string>>;
}

const parseEnvExample = (text: string): EnvExample => ({
  documented: text
    .split('\n')
    .map((line) => /^(?:#\s*)?([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined),
  active: dotenv.parse(text),
});

interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** Dockerfile instructions, comment lines dropped and continuation lines joined (as Docker does). */
const parseDockerfile = (text: string): Instruction[] =>
  text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const [op = '', ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });

interface Files {
  readonly compose: Map;
  readonly composeText: string;
  readonly env: EnvExample;
  readonly dockerfile: readonly Instruction[];
  readonly dockerignore: readonly string[];
  readonly workflow: Map;
  readonly pkg: Map;
  /** test/contract/event-log-contract.ts, for the tests that may skip themselves. */
  readonly contractText: string;
}

const load = (): Files => ({
  compose: asMap(parse(read('docker-compose.yml'))),
  composeText: read('docker-compose.yml'),
  env: parseEnvExample(read('.env.example')),
  dockerfile: parseDockerfile(read('Dockerfile')),
  dockerignore: read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#')),
  workflow: asMap(parse(read('.github/workflows/ci.yml'))),
  pkg: asMap(JSON.parse(read('package.json'))),
  contractText: read(contractFile),
});

// --- docker-compose.yml helpers --------------------------------------------------------------------

const service = (f: Files, name: string): Map => asMap(asMap(f.compose.services)[name]);

/** `environment:` as a map, from either the map or the `- NAME=value` list form. */
const environment = (svc: Map): Record<string, string> => {
  const env = svc.environment;
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const [name = '', ...value] = str(entry).split('=');
        return [name, value.join('=')];
      }),
    );
  }
  return Object.fromEntries(Object.entries(asMap(env)).map(([k, v]) => [k, str(v)]));
};

/** Replaces `${NAME}`, `${NAME:-default}` and `${NAME:?message}` the way docker compose does. */
const interpolate = (value: string, vars: Readonly<Record<string, string>>): string =>
  value.replace(/\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
    const v = vars[name];
    if (op?.endsWith('-')) return v ? v : (arg ?? '');
    return v ?? '';
  });

const imageTag = (image: string): string | undefined => {
  const last = image.split('/').at(-1) ?? '';
  return last.includes(':') ? last.split(':').at(-1) : undefined;
};

/** Where each database image keeps its data, i.e. where the named volume must be mounted. */
const dataDirOf = (image: string): string | undefined => {
  if (/kurrentdb/.test(image)) return '/var/lib/kurrentdb';
  if (/eventstore/.test(image)) return '/var/lib/eventstore';
  if (/(^|\/)postgres:/.test(image)) {
    // From 18 the official images keep PGDATA in a versioned directory under /var/lib/postgresql.
    const major = Number(/^(\d+)/.exec(imageTag(image) ?? '')?.[1]);
    return major >= 18 ? '/var/lib/postgresql' : '/var/lib/postgresql/data';
  }
  return undefined;
};

interface Mount {
  readonly source: string;
  readonly target: string;
  readonly named: boolean;
}

const mounts = (svc: Map, declared: readonly string[]): Mount[] =>
  asList(svc.volumes).map((v) => {
    if (isMap(v)) {
      const source = str(v.source);
      return { source, target: str(v.target), named: v.type === 'volume' && declared.includes(source) };
    }
    const [source = '', target = ''] = str(v).split(':');
    return { source, target, named: declared.includes(source) };
  });

/** The health check as one string, and the program it starts. */
const healthcheck = (svc: Map): { command: string; tool: string } | undefined => {
  const hc = asMap(svc.healthcheck);
  if (hc.disable === true) return undefined;
  const test = hc.test;
  let words: string[];
  if (Array.isArray(test)) {
    const [kind, ...rest] = test.map(str);
    if (kind === 'CMD') words = rest;
    else if (kind === 'CMD-SHELL') words = (rest[0] ?? '').trim().split(/\s+/);
    else return undefined; // NONE, or not a valid test
  } else if (typeof test === 'string' && test.trim() !== '') {
    words = test.trim().split(/\s+/);
  } else {
    return undefined;
  }
  if (words.length === 0 || words[0] === '') return undefined;
  return { command: words.join(' '), tool: words[0] ?? '' };
};

// --- the checks ------------------------------------------------------------------------------------

const checkServices = (f: Files): string[] =>
  services.filter((s) => !isMap(asMap(f.compose.services)[s])).map((s) => `service "${s}" is missing`);

const checkImages = (f: Files): string[] =>
  databases.flatMap((name) => {
    const image = str(service(f, name).image);
    const tag = imageTag(image);
    if (!image) return [`${name}: no image`];
    if (!tag || tag === 'latest' || !/\d/.test(tag))
      return [`${name}: image "${image}" is not pinned to a version (a tag with a version number)`];
    // KurrentDB's minor tags move with every patch release: the node CI tested is the one deployed.
    if (name === 'eventstore' && !/^\d+\.\d+\.\d+$/.test(tag))
      return [`${name}: image "${image}" is not pinned to a patch release (like 25.1.4)`];
    return [];
  });

const checkVolumes = (f: Files): string[] => {
  const declared = Object.keys(asMap(f.compose.volumes));
  return databases.flatMap((name) => {
    const svc = service(f, name);
    const dataDir = dataDirOf(str(svc.image));
    if (!dataDir) return [`${name}: unknown image "${str(svc.image)}": where does it keep its data?`];
    const mount = mounts(svc, declared).find((m) => m.target === dataDir);
    if (!mount) return [`${name}: nothing is mounted at its data directory ${dataDir}`];
    if (!mount.named)
      return [
        `${name}: ${dataDir} is mounted from "${mount.source}", not a named volume declared under volumes:`,
      ];
    return [];
  });
};

const checkHealthchecks = (f: Files): string[] =>
  services.flatMap((name) => {
    const hc = healthcheck(service(f, name));
    if (!hc) return [`${name}: no healthcheck with a test command`];
    const problems: string[] = [];
    if (!probeTools[name].includes(hc.tool))
      problems.push(
        `${name}: healthcheck runs "${hc.tool}", which is not known to exist in that image (use ${probeTools[name].join(' or ')})`,
      );
    if (!probes[name].test(hc.command))
      problems.push(`${name}: healthcheck "${hc.command}" does not probe ${probes[name]}`);
    return problems;
  });

const checkRestart = (f: Files): string[] =>
  services
    .filter((name) => !/^(always|unless-stopped|on-failure(:\d+)?)$/.test(str(service(f, name).restart)))
    .map((name) => `${name}: restart policy "${str(service(f, name).restart)}" does not restart on failure`);

const checkDependsOn = (f: Files): string[] => {
  const deps = asMap(service(f, 'app').depends_on);
  return databases
    .filter((db) => asMap(deps[db]).condition !== 'service_healthy')
    .map((db) => `app: does not wait for ${db} with depends_on condition: service_healthy`);
};

const checkAppEnvironment = (f: Files): string[] => {
  const problems: string[] = [];
  const app = service(f, 'app');
  const env = environment(app);
  const known = new Set<string>(configVariables);
  for (const name of Object.keys(env)) {
    if (!known.has(name))
      problems.push(`app: environment sets ${name}, which is not a configuration variable`);
  }
  if (env.EVENT_STORE !== 'esdb') problems.push(`app: EVENT_STORE is "${env.EVENT_STORE}", not esdb`);

  const esdb = environment(service(f, 'eventstore'));
  try {
    const url = new URL(env.EVENTSTORE_URL ?? '');
    const nodePort = esdb.KURRENTDB_NODE_PORT ?? esdb.EVENTSTORE_NODE_PORT ?? '2113';
    const insecure = (esdb.KURRENTDB_INSECURE ?? esdb.EVENTSTORE_INSECURE) === 'true';
    if (url.protocol !== 'esdb:') problems.push(`app: EVENTSTORE_URL is not an esdb:// connection string`);
    if (url.hostname !== 'eventstore')
      problems.push(`app: EVENTSTORE_URL does not point at the eventstore service`);
    if ((url.port || '2113') !== nodePort)
      problems.push(`app: EVENTSTORE_URL port ${url.port} is not the node's port ${nodePort}`);
    if (insecure !== (url.searchParams.get('tls') === 'false'))
      problems.push(
        `app: EVENTSTORE_URL tls=${url.searchParams.get('tls')} does not match the node's insecure mode`,
      );
  } catch {
    problems.push(`app: EVENTSTORE_URL "${env.EVENTSTORE_URL}" is not a URL`);
  }

  const pg = environment(service(f, 'postgres'));
  // The owner (POSTGRES_USER) migrates; the app runs as the role the init script creates.
  problems.push(...postgresUrlProblems(env, 'DATABASE_OWNER_URL', pg, 'POSTGRES_PASSWORD'));
  problems.push(...postgresUrlProblems(env, 'DATABASE_URL', pg, 'POSTGRES_APP_PASSWORD'));
  const user = postgresUser(env.DATABASE_URL);
  if (user !== undefined && user === pg.POSTGRES_USER)
    problems.push(
      `app: DATABASE_URL connects as POSTGRES_USER "${user}", the owner: the service could change or delete events`,
    );
  else if (user !== undefined && user !== postgresUser(env.DATABASE_OWNER_URL)) {
    if (!initScriptsOf(f).some((text) => new RegExp(`CREATE ROLE ${user}\\b`, 'i').test(text)))
      problems.push(`app: DATABASE_URL connects as "${user}", which no postgres init script creates`);
  }

  const envFiles = asList(app.env_file).length > 0 ? asList(app.env_file).map(str) : [str(app.env_file)];
  if (!envFiles.includes('.env')) problems.push('app: env_file does not include .env');
  return problems;
};

const postgresUser = (url: string | undefined): string | undefined => {
  try {
    return new URL(interpolate(url ?? '', {})).username || undefined;
  } catch {
    return undefined;
  }
};

/** A postgres:// URL of the app's at the postgres service's database, its password from `passwordVar`. */
const postgresUrlProblems = (
  env: Readonly<Record<string, string>>,
  name: string,
  pg: Readonly<Record<string, string>>,
  passwordVar: string,
): string[] => {
  const problems: string[] = [];
  const value = env[name];
  if (value === undefined) return [`app: ${name} is not set`];
  try {
    const url = new URL(interpolate(value, { [passwordVar]: 'password' }));
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
      problems.push(`app: ${name} is not a postgres:// URL`);
    if (url.hostname !== 'postgres') problems.push(`app: ${name} does not point at the postgres service`);
    if ((url.port || '5432') !== '5432') problems.push(`app: ${name} port ${url.port} is not 5432`);
    if (name === 'DATABASE_OWNER_URL' && url.username !== pg.POSTGRES_USER)
      problems.push(`app: ${name} user "${url.username}" is not POSTGRES_USER "${pg.POSTGRES_USER}"`);
    if (url.pathname !== `/${pg.POSTGRES_DB}`)
      problems.push(`app: ${name} database "${url.pathname}" is not POSTGRES_DB "${pg.POSTGRES_DB}"`);
  } catch {
    problems.push(`app: ${name} "${value}" is not a URL`);
  }
  if (!new RegExp(`\\$\\{${passwordVar}[:}?-]`).test(value))
    problems.push(`app: ${name} does not take its password from ${passwordVar}`);
  return problems;
};

const INIT_DIR = '/docker-entrypoint-initdb.d';

/** The texts of the scripts mounted into the postgres image's init directory (run on an empty volume). */
const initScriptsOf = (f: Files): string[] => {
  const mount = mounts(service(f, 'postgres'), []).find((m) => m.target === INIT_DIR);
  if (!mount) return [];
  const dir = join(root, mount.source);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return [];
  return readdirSync(dir)
    .filter((name) => /\.(sh|sql)$/.test(name))
    .map((name) => readFileSync(join(dir, name), 'utf8'));
};

const checkPostgresInit = (f: Files): string[] => {
  const problems: string[] = [];
  const mount = mounts(service(f, 'postgres'), []).find((m) => m.target === INIT_DIR);
  if (!mount) return [`postgres: nothing mounted at ${INIT_DIR}: the app's role is never created`];
  if (!existsSync(join(root, mount.source)))
    return [`postgres: ${INIT_DIR} is mounted from ${mount.source}, which does not exist`];
  const scripts = initScriptsOf(f);
  if (!scripts.some((text) => /CREATE ROLE/i.test(text) && /POSTGRES_APP_PASSWORD/.test(text)))
    problems.push(`postgres: no init script creates a role with the password POSTGRES_APP_PASSWORD`);
  if (
    !/\$\{POSTGRES_APP_PASSWORD[:}?-]/.test(environment(service(f, 'postgres')).POSTGRES_APP_PASSWORD ?? '')
  )
    problems.push('postgres: its environment does not pass POSTGRES_APP_PASSWORD to the init script');
  return problems;
};

const checkPorts = (f: Files): string[] => {
  const problems = databases
    .filter((db) => asList(service(f, db).ports).length > 0)
    .map((db) => `${db}: publishes a port; the databases stay on the private network`);
  const port = environment(service(f, 'app')).PORT ?? '3000';
  const published = asList(service(f, 'app').ports).map(str);
  if (published.length === 0) problems.push('app: publishes no port');
  for (const p of published) {
    if (!p.startsWith('127.0.0.1:'))
      problems.push(
        `app: port "${p}" is published on every interface; bind it to 127.0.0.1 behind the proxy`,
      );
    if (p.split(':').at(-1) !== port)
      problems.push(`app: port "${p}" does not map to the app's PORT ${port}`);
  }
  return problems;
};

const checkEnvExample = (f: Files): string[] => {
  const problems: string[] = [];
  const documented = new Set(f.env.documented);
  for (const name of configVariables) {
    if (!documented.has(name)) problems.push(`.env.example does not document ${name}`);
  }
  const known = new Set<string>(configVariables);
  for (const name of documented) {
    if (known.has(name)) continue;
    if (!(name in composeOnly))
      problems.push(`.env.example has ${name}, which is neither a configuration variable nor compose-only`);
    else if (!f.composeText.includes(`\${${name}`))
      problems.push(`.env.example has compose-only ${name}, but docker-compose.yml does not use it`);
  }
  // Every ${NAME} docker compose interpolates must be explained where the user fills it in.
  for (const [, name] of f.composeText.matchAll(/\$\{([A-Z0-9_]+)/g)) {
    if (name && !documented.has(name))
      problems.push(`docker-compose.yml uses \${${name}}, which .env.example lacks`);
  }
  return problems;
};

/** .env.example as docker compose would hand it to the app, with the app's own environment on top. */
const composedAppEnv = (f: Files, filledIn: Readonly<Record<string, string>>): Record<string, string> => {
  const vars = { ...f.env.active, ...filledIn };
  const own = Object.entries(environment(service(f, 'app'))).map(([k, v]) => [k, interpolate(v, vars)]);
  return { ...vars, ...Object.fromEntries(own) };
};

interface Stage {
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

const stages = (f: Files): Stage[] => {
  const out: { name: string | undefined; instructions: Instruction[] }[] = [];
  for (const ins of f.dockerfile) {
    if (ins.op === 'FROM') out.push({ name: /\sAS\s+(\S+)/i.exec(ins.args)?.[1], instructions: [] });
    out.at(-1)?.instructions.push(ins);
  }
  return out;
};

const checkDockerfile = (f: Files): string[] => {
  const problems: string[] = [];
  const all = stages(f);
  const final = all.at(-1);
  if (all.length < 2 || !final) return ['Dockerfile: not multi-stage (fewer than two FROM)'];
  const earlier = all.slice(0, -1).map((s) => s.name);
  const ops = (op: string) => final.instructions.filter((i) => i.op === op);
  if (!ops('COPY').some((i) => earlier.some((n) => n && i.args.includes(`--from=${n}`))))
    problems.push('Dockerfile: the final stage copies nothing from an earlier stage');

  const run = [...ops('ENTRYPOINT'), ...ops('CMD')].map((i) => i.args).join(' ');
  if (!/src\/main\.ts/.test(run) && !/npm["',\s]+(run["',\s]+)?start/.test(run))
    problems.push('Dockerfile: the final stage CMD/ENTRYPOINT does not run the app (src/main.ts)');
  if (!ops('RUN').some((i) => /bin\/topicdesk\.js\s+\/usr\/local\/bin\/topicdesk\b/.test(i.args)))
    problems.push('Dockerfile: `topicdesk` (bin/topicdesk.js) is not on the PATH for `docker compose exec`');
  const user = ops('USER').at(-1)?.args;
  if (!user || user === 'root' || user === '0') problems.push('Dockerfile: the app runs as root (no USER)');
  if (!ops('HEALTHCHECK').some((i) => /\/readyz/.test(i.args)))
    problems.push('Dockerfile: no HEALTHCHECK on /readyz');

  // Everything copied from the build context exists, and is not excluded by .dockerignore.
  for (const copy of ops('COPY').filter((i) => !i.args.includes('--from='))) {
    const sources = copy.args
      .split(/\s+/)
      .filter((a) => !a.startsWith('--'))
      .slice(0, -1);
    for (const source of sources) {
      if (!existsSync(join(root, source))) problems.push(`Dockerfile: COPY ${source}, which does not exist`);
      if (f.dockerignore.includes(source) || f.dockerignore.includes(`${source}/`))
        problems.push(`Dockerfile: COPY ${source}, which .dockerignore excludes`);
    }
  }
  const copied = ops('COPY').flatMap((i) => i.args.split(/\s+/));
  for (const needed of ['package.json', 'src', 'openapi']) {
    if (!copied.includes(needed) && !copied.includes(`${needed}/`))
      problems.push(`Dockerfile: the final stage does not copy ${needed}, which the app needs at run time`);
  }
  const exposed = ops('EXPOSE').flatMap((i) => i.args.split(/\s+/).map((p) => p.split('/')[0]));
  const port = environment(service(f, 'app')).PORT ?? '3000';
  if (!exposed.includes(port)) problems.push(`Dockerfile: does not EXPOSE the app's port ${port}`);
  for (const secretOrBulk of ['.env', 'node_modules', '.data', '.git']) {
    if (!f.dockerignore.includes(secretOrBulk))
      problems.push(`.dockerignore: does not exclude ${secretOrBulk}`);
  }
  return problems;
};

const esdbContractFile = 'test/contract/esdb.contract.int.test.ts';
/** The files the eventstore-contract job runs against the KurrentDB node, each skipped without it. */
const esdbFiles = [
  esdbContractFile,
  'test/e2e/esdb-app.e2e.test.ts',
  'test/e2e/instances.e2e.test.ts',
] as const;
/** Where the contract's tests are: the ones taking their context `t` may skip themselves (t.skip). */
const contractFile = 'test/contract/event-log-contract.ts';
const contractSkips = (text: string): string[] =>
  [...text.matchAll(/\bit\(\s*'([^']+)',\s*async \(t\)/g)].map((m) => m[1]!);

/** The --skip names a `scripts/tap-check.ts <report>` line passes. */
const tapCheckSkips = (run: string): string[] => [...run.matchAll(/--skip\s+"([^"]+)"/g)].map((m) => m[1]!);

const checkWorkflow = (f: Files): string[] => {
  const problems: string[] = [];
  const jobs = asMap(f.workflow.jobs);
  for (const name of ['test', 'eventstore-contract', 'image']) {
    if (!isMap(jobs[name])) problems.push(`workflow: no job "${name}"`);
    else if (asMap(jobs[name])['runs-on'] !== 'ubuntu-latest')
      problems.push(`workflow: ${name} not on ubuntu-latest`);
  }
  const steps = (job: string) => asList(asMap(jobs[job]).steps).map(asMap);
  const runs = (job: string) =>
    steps(job)
      .map((s) => str(s.run))
      .join('\n');
  if (!/npm ci\b/.test(runs('test')) || !/npm test\b/.test(runs('test')))
    problems.push('workflow: test does not run npm ci and npm test');

  const contract = asMap(jobs['eventstore-contract']);
  const composeImage = str(service(f, 'eventstore').image);
  const nodes = Object.entries(asMap(contract.services)).map(([name, v]) => ({ name, svc: asMap(v) }));
  if (!nodes.some(({ svc }) => str(svc.image) === composeImage))
    problems.push(`workflow: eventstore-contract has no service container running ${composeImage}`);
  for (const { name, svc } of nodes) {
    if (str(svc.image) !== composeImage)
      problems.push(`workflow: the ${name} service runs ${str(svc.image)}, not ${composeImage}`);
    if (!/--health-cmd/.test(str(svc.options)))
      problems.push(`workflow: the ${name} service has no health check`);
    const env = asMap(svc.env);
    if (str(env.KURRENTDB_INSECURE ?? env.EVENTSTORE_INSECURE) !== 'true')
      problems.push(`workflow: the ${name} service is not an insecure single node`);
  }
  const hostPorts = nodes.flatMap(({ svc }) =>
    asList(svc.ports)
      .map(str)
      .filter((p) => p.endsWith(':2113'))
      .map((p) => p.split(':')[0]!),
  );
  problems.push(...checkEsdbSteps(f, steps('eventstore-contract'), asMap(contract.env), hostPorts));
  if (!/docker build\b/.test(runs('image'))) problems.push('workflow: image does not run docker build');
  return problems;
};

/**
 * The eventstore-contract job's steps: each file run against a node of its own (an app on a fresh
 * database replays the whole log, side effects included), after `npm run esdb:ping` has waited for
 * that node to serve reads, with a TAP report that scripts/tap-check.ts then checks — the
 * contract's allowing exactly the tests that may skip themselves, the others none.
 */
const checkEsdbSteps = (
  f: Files,
  jobSteps: readonly Map[],
  jobEnv: Map,
  hostPorts: readonly string[],
): string[] => {
  const problems: string[] = [];
  const runOf = (s: Map) => str(s.run).replace(/\s+/g, ' ');
  const envOf = (s: Map) => ({ ...jobEnv, ...asMap(s.env) });
  const portsUsed = new Map<string, string>();
  const expectedSkips = contractSkips(f.contractText);
  for (const file of esdbFiles) {
    const step = jobSteps.find((s) => runOf(s).includes(file));
    if (!step) {
      problems.push(`workflow: eventstore-contract does not run ${file}`);
      continue;
    }
    const port = /^esdb:\/\/localhost:(\d+)/.exec(str(envOf(step).EVENTSTORE_URL))?.[1];
    if (!port || !hostPorts.includes(port))
      problems.push(`workflow: the step running ${file} does not set EVENTSTORE_URL to a service container`);
    else if (portsUsed.has(port))
      problems.push(
        `workflow: ${file} runs on the node ${portsUsed.get(port)} wrote to (port ${port}): give it its own`,
      );
    else portsUsed.set(port, file);
    if (!/npm run esdb:ping &&.* node /.test(runOf(step)))
      problems.push(
        `workflow: the step running ${file} does not wait with \`npm run esdb:ping &&\` before its tests`,
      );
    if (file.includes('instances') && str(envOf(step).EVENT_STORE) !== 'esdb')
      problems.push(`workflow: the step running ${file} does not set EVENT_STORE=esdb`);
    const tap = /--test-reporter=tap --test-reporter-destination=(\S+)/.exec(runOf(step))?.[1];
    const check = tap
      ? jobSteps
          .slice(jobSteps.indexOf(step) + 1)
          .find((s) => runOf(s).includes(`scripts/tap-check.ts ${tap}`))
      : undefined;
    if (!tap || !check) {
      problems.push(
        `workflow: ${file}'s TAP report is not checked by scripts/tap-check.ts (a skipped file passes)`,
      );
      continue;
    }
    const skips = tapCheckSkips(runOf(check));
    const expected = file === esdbContractFile ? expectedSkips : [];
    if (JSON.stringify([...skips].sort()) !== JSON.stringify([...expected].sort()))
      problems.push(
        `workflow: ${file} may skip ${JSON.stringify(skips)}, but its known skips are ${JSON.stringify(expected)}`,
      );
  }
  return problems;
};

/**
 * One Node everywhere it is chosen: the exact version the test tiers run on (package.json
 * config.nodeLts, scripts/node-lts.ts), and its major in every node image the Dockerfile builds on
 * and in every CI job that runs node or npm. Images and jobs name the major only (`26`,
 * `26-bookworm-slim`): security releases arrive without an edit, a new major never without one.
 */
const checkRuntime = (f: Files): string[] => {
  const problems: string[] = [];
  const lts = str(asMap(f.pkg.config).nodeLts);
  if (!/^\d+\.\d+\.\d+$/.test(lts))
    return [`package.json: config.nodeLts "${lts}" is not an exact Node version (major.minor.patch)`];
  const major = lts.split('.')[0];

  const froms = f.dockerfile.filter((i) => i.op === 'FROM').map((i) => i.args.split(/\s+/)[0] ?? '');
  if (!/^node:/.test(froms.at(-1) ?? ''))
    problems.push(`Dockerfile: the final stage is not built on a node image (FROM ${froms.at(-1)})`);
  for (const image of froms.filter((from) => /^node:/.test(from))) {
    const tag = imageTag(image) ?? '';
    const tagMajor = /^(\d+)(?:-[a-z][\w.-]*)?$/.exec(tag)?.[1];
    if (!tagMajor)
      problems.push(
        `Dockerfile: FROM ${image} is not pinned to a Node major (like node:${major}-bookworm-slim)`,
      );
    else if (tagMajor !== major)
      problems.push(
        `Dockerfile: FROM ${image} is Node ${tagMajor}, not the LTS ${major} (config.nodeLts ${lts})`,
      );
  }

  for (const [name, job] of Object.entries(asMap(f.workflow.jobs))) {
    const jobSteps = asList(asMap(job).steps).map(asMap);
    const setups = jobSteps.filter((s) => str(s.uses).startsWith('actions/setup-node'));
    const usesNode = jobSteps.some((s) => /(^|\s)(npm|npx|node)\s/m.test(str(s.run)));
    if (usesNode && setups.length === 0)
      problems.push(`workflow: ${name} runs node or npm without actions/setup-node (the runner's own Node)`);
    for (const setup of setups) {
      const version = str(asMap(setup.with)['node-version']);
      if (version !== major)
        problems.push(
          `workflow: ${name} sets up Node "${version}", not the LTS major ${major} (config.nodeLts ${lts})`,
        );
    }
  }
  return problems;
};

// --- the tests -----------------------------------------------------------------------------------

describe('deployment: docker-compose.yml, Dockerfile, .env.example, CI workflow', () => {
  const f = load();

  it('runs the services eventstore, postgres and app', () => assert.deepEqual(checkServices(f), []));
  it('pins the database images to versions (no latest)', () => assert.deepEqual(checkImages(f), []));
  it("keeps each database's data in a named volume at that image's data directory", () =>
    assert.deepEqual(checkVolumes(f), []));
  it('gives every service a health check that uses a program its image has', () =>
    assert.deepEqual(checkHealthchecks(f), []));
  it('restarts every service on failure', () => assert.deepEqual(checkRestart(f), []));
  it('starts the app once both databases are healthy', () => assert.deepEqual(checkDependsOn(f), []));
  it('sets only configuration variables on the app: the esdb log at eventstore, PostgreSQL at postgres', () =>
    assert.deepEqual(checkAppEnvironment(f), []));
  it("creates the app's own role on an empty postgres volume, with its own password", () =>
    assert.deepEqual(checkPostgresInit(f), []));
  it('publishes the app on loopback only and neither database', () => assert.deepEqual(checkPorts(f), []));
  it('documents every configuration variable in .env.example, and nothing unexplained', () =>
    assert.deepEqual(checkEnvExample(f), []));
  it('builds a multi-stage image that runs the app as an unprivileged user', () =>
    assert.deepEqual(checkDockerfile(f), []));
  it('runs the tests, the EventStoreDB contract against the same server image, and docker build in CI', () =>
    assert.deepEqual(checkWorkflow(f), []));
  it('builds the image and runs every CI job on the major of the Node LTS the tests prove', () =>
    assert.deepEqual(checkRuntime(f), []));

  it('the CI contract step runs a file that skips itself without EVENTSTORE_URL', () => {
    const text = read(esdbContractFile);
    assert.match(text, /process\.env\.EVENTSTORE_URL/);
    assert.match(text, /skip: url \? false : '[^']+'/);
  });

  it('.env.example with the secrets filled in, under the compose environment, is a valid configuration', () => {
    const env = composedAppEnv(f, { POSTGRES_PASSWORD: 'a1b2c3', POSTGRES_APP_PASSWORD: 'd4e5f6' });
    const config = loadConfig(env);
    assert.equal(config.EVENT_STORE, 'esdb');
    assert.equal(config.EVENTSTORE_URL, 'esdb://eventstore:2113?tls=false');
    assert.equal(config.DATABASE_URL, 'postgres://topicdesk_app:d4e5f6@postgres:5432/topicdesk');
    assert.equal(config.DATABASE_OWNER_URL, 'postgres://topicdesk:a1b2c3@postgres:5432/topicdesk');
    assert.equal(config.PORT, 3000);
    // The node's health check passes before it serves reads: the app waits for it at start-up.
    assert.ok(config.EVENTSTORE_START_TIMEOUT_MS >= 60_000, 'the app waits for KurrentDB to serve');
    // And with a bot configured, as the Deploy section has the user do.
    const withBot = loadConfig({
      ...env,
      TELEGRAM_BOT_TOKEN: '123456789:AAEexampleexampleexample',
      TELEGRAM_SUPPORT_CHAT_ID: '-1001234567890',
      TELEGRAM_WEBHOOK_SECRET: 'f00dfeed',
      PUBLIC_URL: 'https://support.example.com',
    });
    assert.equal(withBot.TELEGRAM_MODE, 'webhook');
  });
});

describe('deployment checks notice breakage', () => {
  const original = load();
  /** A deep copy of the real files with one thing changed. */
  const broken = (change: (f: { -readonly [K in keyof Files]: Files[K] }) => void): Files => {
    const f = structuredClone(original) as { -readonly [K in keyof Files]: Files[K] };
    change(f);
    return f;
  };
  const svc = (f: Files, name: string) => service(f, name);
  const expectProblem = (check: (f: Files) => string[], f: Files, pattern: RegExp) => {
    const problems = check(f);
    assert.ok(
      problems.some((p) => pattern.test(p)),
      `expected a problem matching ${pattern}, got ${JSON.stringify(problems)}`,
    );
  };

  it('a service removed', () =>
    expectProblem(
      checkServices,
      broken((f) => delete asMap(f.compose.services).postgres),
      /service "postgres" is missing/,
    ));
  it('a database on latest, or untagged', () => {
    expectProblem(
      checkImages,
      broken((f) => (svc(f, 'postgres').image = 'postgres:latest')),
      /postgres: image "postgres:latest" is not pinned/,
    );
    expectProblem(
      checkImages,
      broken((f) => (svc(f, 'eventstore').image = 'docker.kurrent.io/kurrent-latest/kurrentdb')),
      /eventstore: image .* is not pinned/,
    );
  });
  it("a volume at the wrong image's data directory, or an undeclared one", () => {
    expectProblem(
      checkVolumes,
      broken((f) => (svc(f, 'eventstore').volumes = ['eventstore-data:/var/lib/eventstore'])),
      /eventstore: nothing is mounted at its data directory \/var\/lib\/kurrentdb/,
    );
    expectProblem(
      checkVolumes,
      broken((f) => (svc(f, 'postgres').image = 'postgres:18')),
      /postgres: nothing is mounted at its data directory \/var\/lib\/postgresql$/,
    );
    expectProblem(
      checkVolumes,
      broken((f) => delete asMap(f.compose.volumes)['postgres-data']),
      /postgres: .* not a named volume/,
    );
  });
  it('a health check removed, disabled, or using a program the image lacks', () => {
    expectProblem(
      checkHealthchecks,
      broken((f) => delete svc(f, 'eventstore').healthcheck),
      /eventstore: no healthcheck/,
    );
    expectProblem(
      checkHealthchecks,
      broken((f) => (svc(f, 'postgres').healthcheck = { test: ['NONE'] })),
      /postgres: no healthcheck/,
    );
    expectProblem(
      checkHealthchecks,
      broken(
        (f) => (svc(f, 'app').healthcheck = { test: ['CMD-SHELL', 'curl -fs http://127.0.0.1:3000/readyz'] }),
      ),
      /app: healthcheck runs "curl"/,
    );
  });
  it('no restart policy', () =>
    expectProblem(
      checkRestart,
      broken((f) => delete svc(f, 'app').restart),
      /app: restart policy "" does not restart/,
    ));
  it('the app not waiting for a healthy database', () =>
    expectProblem(
      checkDependsOn,
      broken((f) => (svc(f, 'app').depends_on = ['eventstore', 'postgres'])),
      /app: does not wait for eventstore/,
    ));
  it('an unknown variable, the PostgreSQL log, or a database elsewhere', () => {
    expectProblem(
      checkAppEnvironment,
      broken((f) => (asMap(svc(f, 'app').environment).TELEGRAM_TOKEN = 'x')),
      /environment sets TELEGRAM_TOKEN, which is not a configuration variable/,
    );
    expectProblem(
      checkAppEnvironment,
      broken((f) => (asMap(svc(f, 'app').environment).EVENT_STORE = 'postgres')),
      /EVENT_STORE is "postgres", not esdb/,
    );
    expectProblem(
      checkAppEnvironment,
      broken((f) => (asMap(svc(f, 'app').environment).EVENTSTORE_URL = 'esdb://localhost:2113?tls=false')),
      /EVENTSTORE_URL does not point at the eventstore service/,
    );
    expectProblem(
      checkAppEnvironment,
      broken((f) => (asMap(svc(f, 'app').environment).DATABASE_URL = 'postgres://u:p@db:5432/topicdesk')),
      /DATABASE_URL does not point at the postgres service/,
    );
  });
  it('the app running as the owner, without an owner for its migrations, or as a role nobody creates', () => {
    const owner = environment(svc(original, 'app')).DATABASE_OWNER_URL ?? '';
    expectProblem(
      checkAppEnvironment,
      broken((f) => (asMap(svc(f, 'app').environment).DATABASE_URL = owner)),
      /DATABASE_URL connects as POSTGRES_USER "topicdesk", the owner/,
    );
    expectProblem(
      checkAppEnvironment,
      broken((f) => delete asMap(svc(f, 'app').environment).DATABASE_OWNER_URL),
      /DATABASE_OWNER_URL is not set/,
    );
    expectProblem(
      checkAppEnvironment,
      broken(
        (f) =>
          (asMap(svc(f, 'app').environment).DATABASE_URL = (
            environment(svc(original, 'app')).DATABASE_URL ?? ''
          ).replace('topicdesk_app:', 'support:')),
      ),
      /DATABASE_URL connects as "support", which no postgres init script creates/,
    );
  });
  it("the app's role never created: no init script mounted, or no password for it", () => {
    expectProblem(
      checkPostgresInit,
      broken((f) => (svc(f, 'postgres').volumes = ['postgres-data:/var/lib/postgresql/data'])),
      /nothing mounted at \/docker-entrypoint-initdb\.d/,
    );
    expectProblem(
      checkPostgresInit,
      broken((f) => (svc(f, 'postgres').volumes = ['./deploy/nowhere:/docker-entrypoint-initdb.d:ro'])),
      /mounted from \.\/deploy\/nowhere, which does not exist/,
    );
    expectProblem(
      checkPostgresInit,
      broken((f) => delete asMap(svc(f, 'postgres').environment).POSTGRES_APP_PASSWORD),
      /does not pass POSTGRES_APP_PASSWORD/,
    );
  });
  it('a database port published, or the app on every interface', () => {
    expectProblem(
      checkPorts,
      broken((f) => (svc(f, 'eventstore').ports = ['2113:2113'])),
      /eventstore: publishes a port/,
    );
    expectProblem(
      checkPorts,
      broken((f) => (svc(f, 'app').ports = ['3000:3000'])),
      /published on every interface/,
    );
  });
  it('.env.example missing a variable, or holding an unknown one', () => {
    expectProblem(
      checkEnvExample,
      broken((f) => (f.env = { ...f.env, documented: f.env.documented.filter((n) => n !== 'VK_API_LIMIT') })),
      /\.env\.example does not document VK_API_LIMIT/,
    );
    expectProblem(
      checkEnvExample,
      broken((f) => (f.env = { ...f.env, documented: [...f.env.documented, 'TELEGRAM_TOKEN'] })),
      /\.env\.example has TELEGRAM_TOKEN, which is neither/,
    );
    expectProblem(
      checkEnvExample,
      broken((f) => (f.composeText = f.composeText.replace(`\${APP_PORT:-3000}`, '3000'))),
      /compose-only APP_PORT, but docker-compose.yml does not use it/,
    );
  });
  it('a single-stage Dockerfile, one that runs something else, or runs as root', () => {
    const from = original.dockerfile;
    const lastFrom = from.map((i) => i.op).lastIndexOf('FROM');
    expectProblem(
      checkDockerfile,
      broken((f) => (f.dockerfile = from.slice(lastFrom))),
      /not multi-stage/,
    );
    expectProblem(
      checkDockerfile,
      broken((f) => (f.dockerfile = from.map((i) => (i.op === 'CMD' ? { op: 'CMD', args: '["bash"]' } : i)))),
      /does not run the app/,
    );
    expectProblem(
      checkDockerfile,
      broken((f) => (f.dockerfile = from.filter((i) => i.op !== 'USER'))),
      /runs as root/,
    );
    expectProblem(
      checkDockerfile,
      broken((f) => (f.dockerignore = [...f.dockerignore, 'openapi'])),
      /COPY openapi, which \.dockerignore excludes/,
    );
  });
  it('CI without the KurrentDB service, or on another server version than production', () => {
    expectProblem(
      checkWorkflow,
      broken((f) => delete asMap(asMap(f.workflow.jobs)['eventstore-contract']).services),
      /no service container running/,
    );
    expectProblem(
      checkWorkflow,
      broken((f) => (svc(f, 'eventstore').image = 'docker.kurrent.io/kurrent-latest/kurrentdb:99.0')),
      /no service container running docker\.kurrent\.io\/kurrent-latest\/kurrentdb:99\.0/,
    );
  });
  it('KurrentDB on a minor tag that moves with each patch release', () =>
    expectProblem(
      checkImages,
      broken((f) => (svc(f, 'eventstore').image = 'docker.kurrent.io/kurrent-latest/kurrentdb:25.1')),
      /eventstore: image .*kurrentdb:25\.1" is not pinned to a patch release/,
    ));
  it('the KurrentDB job not waiting for the node, not running a file, or not checking what it skipped', () => {
    const job = (f: Files) => asMap(asMap(f.workflow.jobs)['eventstore-contract']);
    const steps = (f: Files) => asList(job(f).steps).map(asMap);
    const withSteps = (change: (steps: Map[]) => Map[]) =>
      broken((f) => {
        job(f).steps = change(steps(f));
      });
    const running = (what: string) => (s: Map) => str(s.run).includes(what);
    expectProblem(
      checkWorkflow,
      withSteps((all) =>
        all.map((s) =>
          running('esdb:ping')(s) ? { ...s, run: str(s.run).replace('npm run esdb:ping &&', '') } : s,
        ),
      ),
      /the step running test\/contract\/esdb\.contract\.int\.test\.ts does not wait with `npm run esdb:ping &&`/,
    );
    expectProblem(
      checkWorkflow,
      withSteps((all) =>
        all.map((s) =>
          running('instances.e2e.test.ts')(s)
            ? { ...s, env: { ...asMap(s.env), EVENTSTORE_URL: 'esdb://localhost:2114?tls=false' } }
            : s,
        ),
      ),
      /instances\.e2e\.test\.ts runs on the node test\/e2e\/esdb-app\.e2e\.test\.ts wrote to \(port 2114\)/,
    );
    expectProblem(
      checkWorkflow,
      withSteps((all) => all.filter((s) => !running('esdb-app.e2e.test.ts')(s))),
      /does not run test\/e2e\/esdb-app\.e2e\.test\.ts/,
    );
    // The check this job had: `passed == tests`, which a skipped test fails and a skipped suite passes.
    expectProblem(
      checkWorkflow,
      withSteps((all) =>
        all.map((s) =>
          running('tap-check.ts esdb-contract.tap')(s)
            ? {
                name: 'ran',
                run: 'test "$(sed -n "s/^# pass //p" esdb-contract.tap)" = "$(sed -n "s/^# tests //p" esdb-contract.tap)"',
              }
            : s,
        ),
      ),
      /esdb\.contract\.int\.test\.ts's TAP report is not checked by scripts\/tap-check\.ts/,
    );
    expectProblem(
      checkWorkflow,
      withSteps((all) =>
        all.map((s) =>
          running('tap-check.ts esdb-contract.tap')(s)
            ? { ...s, run: 'node --import tsx scripts/tap-check.ts esdb-contract.tap' }
            : s,
        ),
      ),
      /esdb\.contract\.int\.test\.ts may skip \[\], but its known skips are \["a subscriber sees every event once when a slow transaction/,
    );
    expectProblem(
      checkWorkflow,
      withSteps((all) =>
        all.map((s) =>
          running('tap-check.ts esdb-instances.tap')(s)
            ? { ...s, run: `${str(s.run)} --skip "several instances on one database"` }
            : s,
        ),
      ),
      /instances\.e2e\.test\.ts may skip \["several instances on one database"\], but its known skips are \[\]/,
    );
    expectProblem(
      checkWorkflow,
      withSteps((all) => all.map((s) => (running('instances.e2e.test.ts')(s) ? { ...s, env: {} } : s))),
      /instances\.e2e\.test\.ts does not set EVENT_STORE=esdb/,
    );
    expectProblem(
      checkWorkflow,
      withSteps((all) => all.map((s) => (running('esdb.contract.int.test.ts')(s) ? { ...s, env: {} } : s))),
      /the step running test\/contract\/esdb\.contract\.int\.test\.ts does not set EVENTSTORE_URL to a service container/,
    );
  });
  it("another Node major in the image or in a CI job, a floating tag, or a job on the runner's Node", () => {
    const lts = str(asMap(original.pkg.config).nodeLts);
    const major = lts.split('.')[0];
    const withFrom = (f: { dockerfile: readonly Instruction[] }, stage: string, image: string) => {
      f.dockerfile = f.dockerfile.map((i) =>
        i.op === 'FROM' && i.args.endsWith(`AS ${stage}`) ? { op: 'FROM', args: `${image} AS ${stage}` } : i,
      );
    };
    const job = (f: Files, name: string) => asMap(asMap(f.workflow.jobs)[name]);
    const setupNode = (f: Files, name: string) =>
      asList(job(f, name).steps)
        .map(asMap)
        .find((s) => str(s.uses).startsWith('actions/setup-node'));
    expectProblem(
      checkRuntime,
      broken((f) => withFrom(f, 'deps', 'node:20-bookworm-slim')),
      new RegExp(`FROM node:20-bookworm-slim is Node 20, not the LTS ${major}`),
    );
    expectProblem(
      checkRuntime,
      broken((f) => withFrom(f, 'app', 'node:lts-bookworm-slim')),
      /FROM node:lts-bookworm-slim is not pinned to a Node major/,
    );
    expectProblem(
      checkRuntime,
      broken((f) => withFrom(f, 'app', 'debian:bookworm-slim')),
      /the final stage is not built on a node image/,
    );
    expectProblem(
      checkRuntime,
      broken((f) => (asMap(setupNode(f, 'faults')?.with)['node-version'] = '24')),
      new RegExp(`faults sets up Node "24", not the LTS major ${major}`),
    );
    expectProblem(
      checkRuntime,
      broken((f) => (asMap(setupNode(f, 'test')?.with)['node-version'] = 'lts/*')),
      /test sets up Node "lts\/\*"/,
    );
    expectProblem(
      checkRuntime,
      broken(
        (f) =>
          (job(f, 'eventstore-contract').steps = asList(job(f, 'eventstore-contract').steps).filter(
            (s) => !str(asMap(s).uses).startsWith('actions/setup-node'),
          )),
      ),
      /eventstore-contract runs node or npm without actions\/setup-node/,
    );
    // The LTS moves on in package.json alone: the image and every job are now behind it.
    const bumped = broken((f) => (asMap(f.pkg.config).nodeLts = '28.1.0'));
    const problems = checkRuntime(bumped);
    assert.equal(
      problems.filter((p) => /Dockerfile: FROM node:\S+ is Node \d+, not the LTS 28/.test(p)).length,
      2,
    );
    for (const name of ['test', 'eventstore-contract', 'faults'])
      expectProblem(
        checkRuntime,
        bumped,
        new RegExp(`workflow: ${name} sets up Node "${major}", not the LTS major 28`),
      );
    expectProblem(
      checkRuntime,
      broken((f) => (asMap(f.pkg.config).nodeLts = '26')),
      /config.nodeLts "26" is not an exact Node version/,
    );
  });
});
