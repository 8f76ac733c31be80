import { test, describe, before, after } from 'node:test';
import { strict as assert } from 'node:assert';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '@secure-registry/shared';
import type { DependencyGraph } from '@secure-registry/shared';
import { ARBORIST_MAX_ENTRIES, graphViaArborist, loadLockfile } from './lockfile.js';
import { graphFromLockfileData } from './graph-lockfile.js';

/** Lockfiles vendored in the repository (fixtures/lockfiles, see SOURCES.txt there). */
const FIXTURES = fileURLToPath(new URL('../../../../fixtures/lockfiles/', import.meta.url));
let work: string;

/** Copies a fixture lockfile into a fresh project dir, with a package.json made from its root entry. */
function project(fixture: string, withPackageJson: boolean): string {
  const dir = mkdtempSync(join(work, `${fixture}-`));
  copyFileSync(join(FIXTURES, `${fixture}.package-lock.json`), join(dir, 'package-lock.json'));
  if (withPackageJson) {
    const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'));
    const root = lock.packages[''];
    const pkg: Record<string, unknown> = { name: root.name, version: root.version };
    for (const key of [
      'dependencies',
      'devDependencies',
      'optionalDependencies',
      'peerDependencies',
      'workspaces',
    ]) {
      if (root[key]) pkg[key] = root[key];
    }
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
  }
  return dir;
}

const sources = (graph: DependencyGraph) => {
  const counts: Record<string, number> = {};
  for (const node of graph.nodes) counts[node.source] = (counts[node.source] ?? 0) + 1;
  return counts;
};
const edgeSet = (graph: DependencyGraph) => new Set(graph.edges.map((e) => `${e.from} -> ${e.to} ${e.type}`));
const nodeMap = (graph: DependencyGraph) => new Map(graph.nodes.map((n) => [n.key, n]));

before(() => {
  work = mkdtempSync(join(tmpdir(), 'sr-cli-lockfile-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

describe('graph from real lockfiles', () => {
  test('npm-cli v3 (1,274 entries, workspaces, bundled deps) through Arborist', async () => {
    const loaded = await loadLockfile(project('npm-cli-v3', true));
    assert.equal(loaded.reader, 'arborist');
    assert.equal(loaded.entries, 1274);
    assert.equal(loaded.lockfileVersion, 3);
    const { graph } = loaded;
    // 1,274 entries minus the root, 16 workspace directories (represented by their links) and
    // 163 packages bundled inside `tap` (vetted with it).
    assert.equal(graph.nodes.length, 1094);
    assert.deepEqual(sources(graph), { registry: 1078, link: 16 });
    const nodes = nodeMap(graph);
    const arborist = nodes.get('node_modules/@npmcli/arborist')!;
    assert.equal(arborist.source, 'link');
    assert.equal(arborist.version, '8.0.0');
    assert.equal(nodes.get('node_modules/semver')!.integrity?.startsWith('sha512-'), true);
    assert.ok(!nodes.has('node_modules/tap/node_modules/@babel/core'), 'bundled packages are not nodes');
    const edges = edgeSet(graph);
    assert.ok(edges.has(' -> node_modules/@npmcli/arborist prod'));
    // The link carries its workspace's dependencies.
    assert.ok(edges.has('node_modules/@npmcli/arborist -> node_modules/semver prod'));
    assert.equal(graph.edges.filter((e) => e.from === '').length, 87);
    for (const edge of graph.edges) {
      assert.ok(edge.from === '' || nodes.has(edge.from), `edge from unknown ${edge.from}`);
      assert.ok(nodes.has(edge.to), `edge to unknown ${edge.to}`);
    }
  });

  test('npm-cli v1 without package.json: top-level packages become root edges', async () => {
    const loaded = await loadLockfile(project('npm-cli-v1', false));
    assert.equal(loaded.lockfileVersion, 1);
    assert.equal(loaded.graph.nodes.length, 851);
    assert.deepEqual(sources(loaded.graph), { registry: 851 });
    assert.equal(loaded.graph.edges.filter((e) => e.from === '').length, 602);
    assert.ok(edgeSet(loaded.graph).has('node_modules/chokidar -> node_modules/fsevents optional'));
  });

  test('the linear reader gives the same graph as Arborist (v1 and large-install v3)', async () => {
    for (const [fixture, withPackageJson] of [
      ['npm-cli-v1', false],
      ['large-install-v3', true],
    ] as const) {
      const dir = project(fixture, withPackageJson);
      const data = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8'));
      const viaArborist = await graphViaArborist(dir, join(dir, 'package-lock.json'), data.lockfileVersion);
      const direct = graphFromLockfileData(data);
      assert.ok(viaArborist.nodes.length > 800);
      assert.deepEqual(
        [...nodeMap(direct)].sort(([a], [b]) => a.localeCompare(b)),
        [...nodeMap(viaArborist)].sort(([a], [b]) => a.localeCompare(b)),
        fixture,
      );
      assert.deepEqual(edgeSet(direct), edgeSet(viaArborist), fixture);
    }
  });

  test('the linear reader agrees with Arborist on npm-cli v3 nodes and sources', async () => {
    const dir = project('npm-cli-v3', true);
    const viaArborist = (await loadLockfile(dir)).graph;
    const direct = graphFromLockfileData(JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')));
    const pick = (g: DependencyGraph) =>
      g.nodes.map((n) => `${n.key} ${n.name}@${n.version} ${n.source} ${n.integrity ?? ''}`).sort();
    assert.deepEqual(pick(direct), pick(viaArborist));
  });
});

describe('which reader', () => {
  test('a v3 lockfile whose root entry matches package.json is read without Arborist', async () => {
    const dir = project('large-install-v3', true);
    const loaded = await loadLockfile(dir);
    assert.equal(loaded.reader, 'direct');
    const viaArborist = await graphViaArborist(dir, loaded.path, loaded.lockfileVersion);
    assert.deepEqual(
      [...nodeMap(loaded.graph)].sort(([a], [b]) => a.localeCompare(b)),
      [...nodeMap(viaArborist)].sort(([a], [b]) => a.localeCompare(b)),
    );
    assert.deepEqual(edgeSet(loaded.graph), edgeSet(viaArborist));
    assert.deepEqual(loaded.graph.root, viaArborist.root);
  });

  test('Arborist reads lockfiles the linear reader cannot vouch for', async () => {
    // Workspaces and links (npm-cli), lockfile v1, and a lockfile with no package.json.
    assert.equal((await loadLockfile(project('npm-cli-v3', true))).reader, 'arborist');
    assert.equal((await loadLockfile(project('npm-cli-v1', false))).reader, 'arborist');
    assert.equal((await loadLockfile(project('large-install-v3', false))).reader, 'arborist');
    // package.json changed after the lockfile was written: npm (Arborist) goes by package.json.
    const dir = project('large-install-v3', true);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const [first] = Object.keys(manifest.dependencies);
    delete manifest.dependencies[first!];
    writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest));
    const loaded = await loadLockfile(dir);
    assert.equal(loaded.reader, 'arborist');
    assert.ok(!loaded.graph.edges.some((e) => e.from === '' && e.to === `node_modules/${first}`));
  });
});

describe('a byte order mark (issue 13 item 15)', () => {
  test('a BOM-prefixed lockfile and package.json read as npm reads them', async () => {
    const plain = project('large-install-v3', true);
    const withBom = project('large-install-v3', true);
    for (const name of ['package-lock.json', 'package.json']) {
      writeFileSync(join(withBom, name), `\uFEFF${readFileSync(join(withBom, name), 'utf8')}`);
    }
    const expected = await loadLockfile(plain);
    const loaded = await loadLockfile(withBom);
    assert.equal(loaded.reader, 'direct', 'package.json still vouches for the lockfile');
    assert.deepEqual(nodeMap(loaded.graph), nodeMap(expected.graph));
    assert.deepEqual(edgeSet(loaded.graph), edgeSet(expected.graph));
  });
});

describe('sources', () => {
  test('git, tarball URL, file and link entries are classified', async () => {
    const dir = mkdtempSync(join(work, 'sources-'));
    const lock = {
      name: 'p',
      lockfileVersion: 3,
      packages: {
        '': { name: 'p', dependencies: { a: '1', g: 'git', t: 'url', f: 'file:../f', l: 'file:./l' } },
        'node_modules/a': {
          version: '1.0.0',
          resolved: 'https://registry.example.invalid/a/-/a-1.0.0.tgz',
          integrity: 'sha512-AAAA',
        },
        'node_modules/g': {
          version: '2.0.0',
          resolved: 'git+ssh://git@github.com/o/g.git#0123456789abcdef0123456789abcdef01234567',
        },
        'node_modules/t': {
          version: '3.0.0',
          resolved: 'https://cdn.example.invalid/t.tgz',
          integrity: 'sha512-BBBB',
        },
        'node_modules/f': { version: '4.0.0', resolved: 'file:../f.tgz', integrity: 'sha512-CCCC' },
        'node_modules/l': { resolved: 'l', link: true },
        l: { name: 'l', version: '5.0.0', dependencies: { a: '1' } },
      },
    };
    writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lock));
    const { graph } = await loadLockfile(dir);
    const bySource = Object.fromEntries(graph.nodes.map((n) => [n.name, n.source]));
    assert.deepEqual(bySource, { a: 'registry', g: 'git', t: 'tarball', f: 'file', l: 'link' });
    assert.ok(edgeSet(graph).has('node_modules/l -> node_modules/a prod'));
  });
});

describe('bad input', () => {
  const write = (text: string) => {
    const dir = mkdtempSync(join(work, 'bad-'));
    writeFileSync(join(dir, 'package-lock.json'), text);
    return dir;
  };
  const rejectsWith = async (dir: string, code: string, pattern: RegExp) => {
    await assert.rejects(loadLockfile(dir), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.equal(error.code, code);
      assert.match(`${error.message} ${error.hint ?? ''}`, pattern);
      return true;
    });
  };

  test('no lockfile says how to make one', async () => {
    await rejectsWith(
      mkdtempSync(join(work, 'none-')),
      'ERR_SR_NO_LOCKFILE',
      /npm install --package-lock-only/,
    );
  });
  test('truncated JSON', async () => {
    const text = readFileSync(join(FIXTURES, 'npm-cli-v3.package-lock.json'), 'utf8');
    await rejectsWith(write(text.slice(0, 10_000)), 'ERR_SR_LOCKFILE_INVALID', /not valid JSON/);
  });
  test('malformed JSON, empty file, wrong shapes, unknown version', async () => {
    await rejectsWith(write('{"lockfileVersion": 3, '), 'ERR_SR_LOCKFILE_INVALID', /not valid JSON/);
    await rejectsWith(write(''), 'ERR_SR_LOCKFILE_INVALID', /empty/);
    await rejectsWith(write('[1,2]'), 'ERR_SR_LOCKFILE_INVALID', /JSON object/);
    await rejectsWith(write('{"name":"x"}'), 'ERR_SR_LOCKFILE_INVALID', /not an npm lockfile/);
    await rejectsWith(write('{"lockfileVersion": 99, "packages": {}}'), 'ERR_SR_LOCKFILE_UNSUPPORTED', /99/);
  });
  test('a shrinkwrap wins over package-lock', async () => {
    const dir = write('not json');
    writeFileSync(
      join(dir, 'npm-shrinkwrap.json'),
      JSON.stringify({ lockfileVersion: 3, packages: { '': {} } }),
    );
    const loaded = await loadLockfile(dir);
    assert.equal(loaded.fileName, 'npm-shrinkwrap.json');
    assert.equal(loaded.graph.nodes.length, 0);
  });
});

test('a 50,000-entry lockfile is read by the linear reader', async () => {
  const dir = mkdtempSync(join(work, 'huge-'));
  const count = 50_000;
  const packages: Record<string, unknown> = { '': { name: 'huge', version: '1.0.0', dependencies: {} } };
  const rootDeps = (packages[''] as { dependencies: Record<string, string> }).dependencies;
  for (let i = 0; i < count; i++) {
    const name = `pkg-${i}`;
    if (i % 10 === 0) rootDeps[name] = '1.0.0';
    packages[`node_modules/${name}`] = {
      version: '1.0.0',
      resolved: `https://registry.npmjs.org/${name}/-/${name}-1.0.0.tgz`,
      integrity: `sha512-${Buffer.alloc(64, i % 251).toString('base64')}`,
      ...(i > 0
        ? { dependencies: { [`pkg-${Math.floor(i / 2)}`]: '1.0.0', [`pkg-${i - 1}`]: '1.0.0' } }
        : {}),
    };
  }
  writeFileSync(
    join(dir, 'package-lock.json'),
    JSON.stringify({ name: 'huge', lockfileVersion: 3, packages }),
  );
  assert.ok(count > ARBORIST_MAX_ENTRIES);
  const start = performance.now();
  const loaded = await loadLockfile(dir);
  // Speed belongs to bench/; the time is printed for the record, never asserted.
  console.log(`50,000-entry lockfile read in ${Math.round(performance.now() - start)} ms`);
  assert.equal(loaded.reader, 'direct');
  assert.equal(loaded.graph.nodes.length, count);
  assert.equal(
    loaded.graph.edges.length,
    count / 10 + (count - 1) * 2 - /* pkg-1 and pkg-2 name one package twice */ 2,
  );
});
