import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type * as BinShim from '../bin-shim.js';
// The shim is plain JavaScript shipped beside dist/ (it runs before any build and on old Nodes).
const shim = (await import(new URL('../bin-shim.js', import.meta.url).href)) as typeof BinShim;

test('nodeAtLeast compares major, minor and patch numerically', () => {
  assert.equal(shim.nodeAtLeast('22.12.0'), true);
  assert.equal(shim.nodeAtLeast('v24.1.0'), true);
  assert.equal(shim.nodeAtLeast('22.9.3'), false);
  assert.equal(shim.nodeAtLeast('20.20.2'), false);
  assert.equal(shim.nodeAtLeast('22.13.0'), true);
  assert.equal(shim.nodeAtLeast('100.0.0'), true);
});

test('unsupportedNodeMessage: one line naming the required version, or nothing', () => {
  assert.equal(shim.unsupportedNodeMessage('secure-registry', '24.21.0', true, '/n'), undefined);
  const old = shim.unsupportedNodeMessage('secure-registry', '20.20.2', false, '/usr/bin/node');
  assert.equal(
    old,
    'secure-registry: needs Node.js 22.12.0 or later with node:sqlite (24 LTS recommended); this is Node.js 20.20.2 (/usr/bin/node)',
  );
  const flagged = shim.unsupportedNodeMessage('secure-registry-server', '22.12.0', false, '/n');
  assert.match(flagged ?? '', /this is Node\.js 22\.12\.0, which lacks node:sqlite/);
  assert.ok(!old!.includes('\n'));
});

test('this Node (the project’s) is supported', () => {
  assert.equal(shim.hasNodeSqlite(), true);
  assert.equal(shim.unsupportedNodeMessage('x'), undefined);
});

test('execWithNodeFlags re-runs the program in place under the flags, unless they are given already', async () => {
  const { spawn } = await import('node:child_process');
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = await mkdtemp(join(tmpdir(), 'sr-shim-'));
  const program = join(dir, 'program.mjs');
  await writeFile(
    program,
    `import { execWithNodeFlags } from ${JSON.stringify(new URL('../bin-shim.js', import.meta.url).href)};
execWithNodeFlags(['--max-semi-space-size=16']);
console.log(JSON.stringify({ pid: process.pid, execArgv: process.execArgv, argv: process.argv.slice(2) }));`,
  );
  type Seen = { pid: number; execArgv: string[]; argv: string[] };
  const run = (env: NodeJS.ProcessEnv, args: string[] = []) =>
    new Promise<{ pid: number | undefined; seen: Seen }>((resolve, reject) => {
      const child = spawn(process.execPath, [program, ...args], { env: { PATH: process.env.PATH, ...env } });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('close', () => resolve({ pid: child.pid, seen: JSON.parse(out) as Seen }));
    });
  try {
    const plain = await run({}, ['serve', '--port', '1']);
    assert.equal(plain.seen.pid, plain.pid, 'the same process');
    assert.deepEqual(plain.seen.execArgv, ['--max-semi-space-size=16']);
    assert.deepEqual(plain.seen.argv, ['serve', '--port', '1']);
    const given = await run({ NODE_OPTIONS: '--max-semi-space-size=32' });
    assert.deepEqual(given.seen.execArgv, [], 'NODE_OPTIONS wins');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
