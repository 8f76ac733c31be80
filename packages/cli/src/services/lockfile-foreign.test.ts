import { test, describe, before, after } from 'node:test';
import { strict as assert } from 'node:assert';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '@secure-registry/shared';
import type { DependencyGraph, DependencyNode } from '@secure-registry/shared';
import { loadLockfile } from './lockfile.js';
import type { LoadedLockfile } from './lockfile.js';

/** Lockfiles vendored in the repository (fixtures/lockfiles, see SOURCES.txt there). */
const FIXTURES = fileURLToPath(new URL('../../../../fixtures/lockfiles/', import.meta.url));
const SAME = join(FIXTURES, 'same-project');
let work: string;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'sr-cli-lockfile-foreign-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

/** A project dir holding `fixture` under the name the package manager gives its lockfile. */
function project(fixture: string, lockfileName: string, packageJson?: string): string {
  const dir = mkdtempSync(join(work, 'p-'));
  copyFileSync(fixture, join(dir, lockfileName));
  if (packageJson) copyFileSync(packageJson, join(dir, 'package.json'));
  return dir;
}

const registryNodes = (graph: DependencyGraph): Map<string, DependencyNode> =>
  new Map(graph.nodes.filter((n) => n.source === 'registry').map((n) => [`${n.name}@${n.version}`, n]));
const flags = (node: DependencyNode) => `${node.dev ? 'dev' : ''}${node.optional ? 'optional' : ''}`;

function assertEdgesResolve(graph: DependencyGraph): void {
  const keys = new Set(graph.nodes.map((n) => n.key));
  assert.equal(keys.size, graph.nodes.length, 'node keys are unique');
  for (const edge of graph.edges) {
    assert.ok(edge.from === '' || keys.has(edge.from), `edge from unknown ${edge.from}`);
    assert.ok(keys.has(edge.to), `edge to unknown ${edge.to}`);
  }
}

describe('one project, five lockfiles (npm, pnpm v6/v9, yarn v1/berry as the tools wrote them)', () => {
  let npm: LoadedLockfile;
  before(async () => {
    npm = await loadLockfile(
      project(join(SAME, 'package-lock.json'), 'package-lock.json', join(SAME, 'package.json')),
    );
  });

  for (const [label, file, reader, withIntegrity] of [
    ['pnpm v9', 'pnpm-v9.pnpm-lock.yaml', 'pnpm', true],
    ['pnpm v6', 'pnpm-v6.pnpm-lock.yaml', 'pnpm', true],
    ['yarn v1', 'yarn-v1.yarn.lock', 'yarn', true],
    ['yarn berry', 'yarn-berry.yarn.lock', 'yarn-berry', false],
  ] as const) {
    test(`${label}: the same packages, versions, integrity and dev/optional flags as npm's`, async () => {
      const name = file.endsWith('.yaml') ? 'pnpm-lock.yaml' : 'yarn.lock';
      const loaded = await loadLockfile(project(join(SAME, file), name, join(SAME, 'package.json')));
      assert.equal(loaded.reader, reader);
      assert.equal(loaded.fileName, name);
      assertEdgesResolve(loaded.graph);
      const ours = registryNodes(loaded.graph);
      const theirs = registryNodes(npm.graph);
      assert.ok(theirs.size > 100);
      for (const [id, node] of theirs) {
        const mine = ours.get(id);
        assert.ok(mine, `${label} lacks ${id}`);
        assert.equal(flags(mine), flags(node), `${id} flags`);
        if (withIntegrity) assert.equal(mine.integrity, node.integrity, `${id} integrity`);
        else assert.equal(mine.integrity, undefined, 'berry checksums are not npm integrity');
      }
      const extra = [...ours.keys()].filter((id) => !theirs.has(id));
      if (label === 'yarn berry') {
        // yarn 4 adds node-gyp (and its tree) to packages that may build: optional, never prod.
        assert.ok(extra.includes('node-gyp@13.1.0'));
        for (const id of extra) assert.equal(ours.get(id)!.optional, true, `${id} is optional`);
      } else {
        assert.deepEqual(extra, []);
      }
      // The `my-ms: npm:ms@2.1.3` alias is ms@2.1.3, a direct dependency.
      const ms = ours.get('ms@2.1.3')!;
      assert.ok(loaded.graph.edges.some((e) => e.from === '' && e.to === ms.key && e.type === 'prod'));
      // typescript is a devDependency, chokidar optional, express prod.
      const direct = new Map(
        loaded.graph.edges
          .filter((e) => e.from === '')
          .map((e) => [loaded.graph.nodes.find((n) => n.key === e.to)!.name, e.type]),
      );
      assert.equal(direct.get('typescript'), 'dev');
      assert.equal(direct.get('chokidar'), 'optional');
      assert.equal(direct.get('express'), 'prod');
    });
  }
});

describe('real lockfiles of large projects', () => {
  test('vite pnpm-lock.yaml (v9, workspace of 100+ importers, peer variants, patches)', async () => {
    const loaded = await loadLockfile(project(join(FIXTURES, 'vite.pnpm-lock.yaml'), 'pnpm-lock.yaml'));
    const { graph } = loaded;
    assert.equal(loaded.lockfileVersion, 9);
    assertEdgesResolve(graph);
    const counts: Record<string, number> = {};
    for (const node of graph.nodes) counts[node.source] = (counts[node.source] ?? 0) + 1;
    assert.deepEqual(counts, { registry: 1296, file: 109, link: 278 });
    for (const node of graph.nodes) {
      assert.ok(!node.key.includes('('), `peer/patch suffix left in ${node.key}`);
      if (node.source === 'registry') assert.match(node.integrity ?? '', /^sha512-/, node.key);
    }
    // Importers are workspace links reached from the root.
    const vite = graph.nodes.find((n) => n.key === 'packages/vite')!;
    assert.equal(vite.source, 'link');
    assert.ok(graph.edges.some((e) => e.from === '' && e.to === 'packages/vite' && e.type === 'workspace'));
    assert.ok(graph.nodes.some((n) => n.dev) && graph.nodes.some((n) => !n.dev));
  });

  test('babel yarn.lock (berry, workspaces, builtin patches)', async () => {
    const loaded = await loadLockfile(project(join(FIXTURES, 'babel-berry.yarn.lock'), 'yarn.lock'));
    assert.equal(loaded.reader, 'yarn-berry');
    assertEdgesResolve(loaded.graph);
    const registry = registryNodes(loaded.graph);
    assert.equal(registry.size, 1573);
    assert.equal(loaded.graph.nodes.filter((n) => n.source === 'link').length, 166);
    // `patch:typescript@npm%3A…#optional!builtin<compat/typescript>` is vetted as the registry package.
    for (const node of loaded.graph.nodes) assert.ok(!node.key.includes('patch:'), node.key);
    assert.ok([...registry.values()].some((n) => n.name === 'typescript'));
  });

  test('babel yarn.lock (classic v1): integrity, resolved URLs without the sha1 fragment', async () => {
    const loaded = await loadLockfile(project(join(FIXTURES, 'babel-v1.yarn.lock'), 'yarn.lock'));
    assert.equal(loaded.reader, 'yarn');
    assertEdgesResolve(loaded.graph);
    const registry = registryNodes(loaded.graph);
    assert.equal(registry.size, 1439);
    for (const node of registry.values()) {
      assert.match(node.integrity ?? '', /^sha(512|1)-/, node.key);
      assert.ok(!node.resolved?.includes('#'), node.resolved);
    }
  });
});

describe('unreadable pnpm and yarn lockfiles are input errors naming the file', () => {
  const code = (expected: string) => (error: unknown) =>
    error instanceof UserError && error.code === expected;
  test('pnpm lockfile v5 is unsupported', async () => {
    const dir = mkdtempSync(join(work, 'v5-'));
    writeFileSync(join(dir, 'pnpm-lock.yaml'), 'lockfileVersion: 5.4\npackages:\n  /a/1.0.0: {}\n');
    await assert.rejects(loadLockfile(dir), code('ERR_SR_LOCKFILE_UNSUPPORTED'));
  });
  test('broken YAML and merge conflicts', async () => {
    const dir = mkdtempSync(join(work, 'bad-'));
    writeFileSync(join(dir, 'pnpm-lock.yaml'), "lockfileVersion: '9.0'\n<<<<<<< HEAD\n  a: [\n");
    await assert.rejects(loadLockfile(dir), code('ERR_SR_LOCKFILE_INVALID'));
    const yarnDir = mkdtempSync(join(work, 'bad-'));
    writeFileSync(join(yarnDir, 'yarn.lock'), 'a@^1:\n  version "1.0.0"\n<<<<<<< HEAD\n  "x\n');
    await assert.rejects(loadLockfile(yarnDir), code('ERR_SR_LOCKFILE_INVALID'));
  });
  test('an empty yarn.lock', async () => {
    const dir = mkdtempSync(join(work, 'empty-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'yarn.lock'), '\n');
    await assert.rejects(loadLockfile(dir), code('ERR_SR_LOCKFILE_INVALID'));
  });
});
