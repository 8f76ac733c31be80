import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalArtifactStore } from '../artifacts/artifact-store.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { FakeUpstream, type FakeVersion } from '../test-support/fake-upstream.js';
import { DEFAULT_UPSTREAM_RETRY, RegistryClient } from '../upstream/registry-client.js';
import { edgesOf } from './dependency-tree.js';
import {
  createDependencyInstaller,
  installDependencies,
  type InstalledDependencies,
} from './install-dependencies.js';

/** A version whose index.js says who it is, so a test can tell which copy sits where. */
const pkg = (name: string, version: string, manifest: Record<string, unknown> = {}): FakeVersion => ({
  name,
  version,
  manifest,
  files: { 'index.js': `module.exports = '${name}@${version}';\n` },
});

const otherArch = process.arch === 'x64' ? 'arm64' : 'x64';

describe('installDependencies (fake upstream, real artifact store)', () => {
  let upstream: FakeUpstream;
  let registry: RegistryClient;
  let dataDir: string;
  let artifacts: ArtifactStore;
  const results: InstalledDependencies[] = [];

  before(async () => {
    upstream = await new FakeUpstream().start();
    registry = new RegistryClient({ baseUrl: upstream.url });
    dataDir = await mkdtemp(join(tmpdir(), 'sr-deps-test-'));
    artifacts = new LocalArtifactStore(dataDir);
    for (const v of [
      // transitive: t-a → t-b → t-c, t-a picked as npm would (highest in range)
      pkg('t-a', '1.0.0', { dependencies: { 't-b': '^2.0.0' } }),
      pkg('t-a', '1.1.0', { dependencies: { 't-b': '^2.0.0' } }),
      pkg('t-a', '2.0.0'),
      pkg('t-b', '2.3.1', { dependencies: { 't-c': '~1.0.0' } }),
      pkg('t-c', '1.0.4'),
      pkg('t-c', '1.1.0'),
      // conflict: the root wants c-x@1, c-y wants c-x@2 (nested), c-z wants c-x@1 (deduped)
      pkg('c-x', '1.2.0'),
      pkg('c-x', '2.0.0'),
      pkg('c-y', '1.0.0', { dependencies: { 'c-x': '^2.0.0', 'c-z': '^1.0.0' } }),
      pkg('c-z', '1.0.0', { dependencies: { 'c-x': '^1.0.0', 'root-pkg': '^1.0.0' } }),
      // hoisting below a conflict
      pkg('h-x', '1.0.0'),
      pkg('h-x', '2.0.0'),
      pkg('h-a', '1.0.0', { dependencies: { 'h-x': '^1.0.0', 'h-b': '^1.0.0' } }),
      pkg('h-a', '2.0.0', { dependencies: { 'h-b': '^1.0.0' } }),
      pkg('h-b', '1.0.0', { dependencies: { 'h-x': '^2.0.0' } }),
      pkg('h-b', '2.0.0'),
      // npm's queue order: q-y (hoisted by q-a) is processed before q-z, so its q-k@2 takes the top
      pkg('q-a', '1.0.0', { dependencies: { 'q-y': '1.0.0' } }),
      pkg('q-y', '1.0.0', { dependencies: { 'q-k': '^2.0.0' } }),
      pkg('q-z', '1.0.0', { dependencies: { 'q-k': '^1.0.0' } }),
      pkg('q-k', '1.0.0'),
      pkg('q-k', '2.0.0'),
      // platform-specific optional dependencies, like esbuild's
      pkg('o-here', '1.0.0', { os: [process.platform], cpu: [process.arch] }),
      pkg('o-other-os', '1.0.0', { os: [`!${process.platform}`] }),
      pkg('o-other-cpu', '1.0.0', { cpu: [otherArch] }),
      pkg('o-old-node', '1.0.0', { engines: { node: '<1' } }),
      pkg('r-other-os', '1.0.0', { os: [`!${process.platform}`] }),
      // peers, aliases, bundled
      pkg('p-host', '1.0.0', {
        peerDependencies: { 'p-peer': '^1.0.0', 'p-opt': '^1.0.0' },
        peerDependenciesMeta: { 'p-opt': { optional: true } },
      }),
      pkg('p-peer', '1.5.0'),
      pkg('p-opt', '1.0.0'),
      pkg('b-bundler', '1.0.0', { dependencies: { 'b-inside': '^1.0.0' }, bundleDependencies: ['b-inside'] }),
      // limits
      pkg('l-1', '1.0.0'),
      pkg('l-2', '1.0.0'),
      pkg('l-3', '1.0.0'),
      // reuse from the store
      pkg('s-1', '1.0.0'),
      // one version available, another asked for
      pkg('v-only', '1.0.0'),
    ])
      await upstream.add(v);
    const good = await upstream.add(pkg('m-good', '1.0.0'));
    await upstream.add({ ...pkg('m-tampered', '1.0.0'), distIntegrity: good.integrity });
  });
  after(async () => {
    for (const r of results) await r.cleanup();
    await registry.close();
    await upstream.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const install = async (
    dependencies: Record<string, Record<string, string> | string[] | boolean>,
    limits: { maxPackages?: number; maxUnpackedBytes?: number } = {},
    signal = new AbortController().signal,
  ): Promise<InstalledDependencies> => {
    const result = await installDependencies(
      {
        name: 'root-pkg',
        version: '1.0.0',
        manifest: { name: 'root-pkg', version: '1.0.0', ...dependencies },
      },
      signal,
      { registry, artifacts, ...limits },
    );
    results.push(result);
    return result;
  };
  const layout = (r: InstalledDependencies): Record<string, string> =>
    Object.fromEntries(r.dependencies.map((d) => [d.path, `${d.name}@${d.version}`]));
  const contentAt = async (r: InstalledDependencies, path: string): Promise<string> => {
    const dep = r.dependencies.find((d) => d.path === path);
    assert.ok(dep, `${path} present`);
    return readFile(join(dep.dir, 'index.js'), 'utf8');
  };

  test('transitive dependencies, versions picked as npm picks them, hoisted to the top', async () => {
    const r = await install({ dependencies: { 't-a': '^1.0.0' } });
    assert.deepEqual(layout(r), {
      'node_modules/t-a': 't-a@1.1.0',
      'node_modules/t-b': 't-b@2.3.1',
      'node_modules/t-c': 't-c@1.0.4',
    });
    assert.deepEqual(r.issues, []);
    assert.match(await contentAt(r, 'node_modules/t-c'), /t-c@1\.0\.4/);
    assert.ok(r.bytes > 0 && r.files >= 6);
  });

  test('a version conflict nests the other version under its dependent; a fitting one is reused', async () => {
    const r = await install({ dependencies: { 'c-x': '^1.0.0', 'c-y': '^1.0.0' } });
    assert.deepEqual(layout(r), {
      'node_modules/c-x': 'c-x@1.2.0',
      'node_modules/c-y': 'c-y@1.0.0',
      'node_modules/c-y/node_modules/c-x': 'c-x@2.0.0',
      'node_modules/c-z': 'c-z@1.0.0',
    });
    assert.match(await contentAt(r, 'node_modules/c-y/node_modules/c-x'), /c-x@2\.0\.0/);
    // c-z depends on the analysed package itself: satisfied by it, not fetched again.
    assert.deepEqual(r.issues, []);
  });

  test('a nested copy goes as high as it shadows no one it does not fit', async () => {
    // h-b@1 is nested under h-a (the top has h-b@2) and needs h-x@2 (the top has h-x@1): under h-a
    // it would shadow h-a's own h-x@^1, so it goes under h-b; without that dependent, under h-a.
    const shadowing = await install({ dependencies: { 'h-x': '^1.0.0', 'h-a': '1.0.0', 'h-b': '^2.0.0' } });
    assert.deepEqual(layout(shadowing), {
      'node_modules/h-a': 'h-a@1.0.0',
      'node_modules/h-b': 'h-b@2.0.0',
      'node_modules/h-x': 'h-x@1.0.0',
      'node_modules/h-a/node_modules/h-b': 'h-b@1.0.0',
      'node_modules/h-a/node_modules/h-b/node_modules/h-x': 'h-x@2.0.0',
    });
    const hoisted = await install({ dependencies: { 'h-x': '^1.0.0', 'h-a': '2.0.0', 'h-b': '^2.0.0' } });
    assert.equal(layout(hoisted)['node_modules/h-a/node_modules/h-x'], 'h-x@2.0.0');
    assert.equal(Object.keys(layout(hoisted)).length, 5);
  });

  test('nodes are processed in npm order (shallowest, then by path), which decides who gets the top', async () => {
    const r = await install({ dependencies: { 'q-a': '1.0.0', 'q-z': '1.0.0' } });
    assert.deepEqual(layout(r), {
      'node_modules/q-a': 'q-a@1.0.0',
      'node_modules/q-y': 'q-y@1.0.0',
      'node_modules/q-z': 'q-z@1.0.0',
      'node_modules/q-k': 'q-k@2.0.0',
      'node_modules/q-z/node_modules/q-k': 'q-k@1.0.0',
    });
  });

  test('optional dependencies are filtered by os, cpu and node engine like npm; others fetched', async () => {
    const r = await install({
      optionalDependencies: {
        'o-here': '1.0.0',
        'o-other-os': '1.0.0',
        'o-other-cpu': '1.0.0',
        'o-old-node': '1.0.0',
      },
    });
    assert.deepEqual(layout(r), { 'node_modules/o-here': 'o-here@1.0.0' });
    assert.deepEqual(r.issues, []);
    assert.equal(r.skipped.length, 3, r.skipped.join('\n'));
    for (const name of ['o-other-os', 'o-other-cpu', 'o-old-node']) {
      assert.ok(
        r.skipped.some((s) => s.startsWith(`${name}@`)),
        name,
      );
      assert.equal(upstream.count(upstream.tarballPath(name, '1.0.0')), 0, `${name} tarball not fetched`);
    }
  });

  test('a required dependency that cannot be resolved is an issue; an optional one is skipped', async () => {
    const r = await install({
      dependencies: {
        'no-such-dep': '^1.0.0',
        'v-only': '^2.0.0',
        'r-other-os': '1.0.0',
        'g-git': 'github:a/b',
      },
      optionalDependencies: { 'no-such-optional': '^1.0.0' },
    });
    assert.deepEqual(r.dependencies, []);
    const issue = (name: string) => r.issues.find((i) => i.startsWith(`${name}@`)) ?? '';
    assert.match(issue('no-such-dep'), /404/);
    assert.match(issue('v-only'), /No matching version|ETARGET|2\.0\.0/i);
    assert.match(issue('r-other-os'), /platform/i);
    assert.match(issue('g-git'), /git/);
    assert.equal(r.issues.length, 4, r.issues.join('\n'));
    assert.ok(r.skipped.some((s) => s.startsWith('no-such-optional@')));
  });

  test('a tarball that does not match dist.integrity is left out with an issue and not stored', async () => {
    const r = await install({ dependencies: { 'm-tampered': '1.0.0', 'm-good': '1.0.0' } });
    assert.deepEqual(layout(r), { 'node_modules/m-good': 'm-good@1.0.0' });
    assert.equal(r.issues.length, 1);
    assert.match(r.issues[0] ?? '', /^m-tampered@1\.0\.0: .*integrity does not match/);
    const stored = await readdir(join(dataDir, 'artifacts/sha512'), { recursive: true });
    const tampered = upstream.tarballInfo.get('m-tampered@1.0.0');
    assert.ok(tampered);
    assert.ok(
      !stored.some((f) => f.includes(Buffer.from(tampered.integrity.slice(7), 'base64').toString('hex'))),
    );
  });

  test('peer dependencies are installed beside their dependent, optional peers are not; aliases; bundled ones are not fetched', async () => {
    const r = await install({
      dependencies: { 'p-host': '1.0.0', 'alias-x': 'npm:c-x@^2.0.0', 'b-bundler': '1.0.0' },
    });
    assert.deepEqual(layout(r), {
      'node_modules/alias-x': 'alias-x@2.0.0',
      'node_modules/b-bundler': 'b-bundler@1.0.0',
      'node_modules/p-host': 'p-host@1.0.0',
      'node_modules/p-peer': 'p-peer@1.5.0',
    });
    assert.match(await contentAt(r, 'node_modules/alias-x'), /c-x@2\.0\.0/);
    assert.deepEqual(r.issues, []);
    assert.equal(upstream.count(upstream.packumentPath('b-inside')), 0);
  });

  test('the limits stop adding dependencies and say so', async () => {
    const byCount = await install(
      { dependencies: { 'l-1': '1.0.0', 'l-2': '1.0.0', 'l-3': '1.0.0' } },
      { maxPackages: 2 },
    );
    assert.deepEqual(Object.keys(layout(byCount)), ['node_modules/l-1', 'node_modules/l-2']);
    assert.equal(byCount.issues.length, 1);
    assert.match(byCount.issues[0] ?? '', /^dependencies incomplete: more than 2 packages/);
    const byBytes = await install(
      { dependencies: { 'l-1': '1.0.0', 'l-2': '1.0.0' } },
      { maxUnpackedBytes: 120 },
    );
    assert.ok(byBytes.dependencies.length < 2, JSON.stringify(layout(byBytes)));
    assert.ok(byBytes.bytes <= 120);
    assert.match(byBytes.issues.join('\n'), /^dependencies incomplete: more than 0 MB unpacked/m);
  });

  test('a second analysis reuses the stored tarball (no second download); cleanup removes the directories', async () => {
    const first = await install({ dependencies: { 's-1': '1.0.0' } });
    const second = await install({ dependencies: { 's-1': '1.0.0' } });
    assert.equal(upstream.count(upstream.tarballPath('s-1', '1.0.0')), 1);
    assert.deepEqual(layout(second), { 'node_modules/s-1': 's-1@1.0.0' });
    assert.match(await contentAt(second, 'node_modules/s-1'), /s-1@1\.0\.0/);
    const dirs = [...first.dependencies, ...second.dependencies].map((d) => d.dir);
    assert.equal(new Set(dirs).size, 2);
    await first.cleanup();
    await second.cleanup();
    for (const dir of dirs) assert.equal(existsSync(dir), false, dir);
  });

  test("the server installer gives up a dependency after the registry client's attempts; a 404 after one", async () => {
    await upstream.add(pkg('u-flaky', '1.0.0'));
    upstream.rules.set(upstream.packumentPath('u-flaky'), { status: 503 });
    const installer = createDependencyInstaller({ registry, artifacts });
    const r = await installer(
      {
        name: 'root-pkg',
        version: '1.0.0',
        manifest: { dependencies: { 'u-flaky': '1.0.0', 'u-gone': '1.0.0' } },
      },
      new AbortController().signal,
    );
    results.push(r);
    assert.equal(upstream.count(upstream.packumentPath('u-flaky')), DEFAULT_UPSTREAM_RETRY.attempts);
    assert.equal(upstream.count(upstream.packumentPath('u-gone')), 1);
    assert.deepEqual(
      r.issues.map((i) => i.replace(/:.*/, '')),
      [
        'u-flaky@1.0.0 (prod dependency of root-pkg@1.0.0)',
        'u-gone@1.0.0 (prod dependency of root-pkg@1.0.0)',
      ],
    );
  });

  test('an aborted installation rejects', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(install({ dependencies: { 't-a': '^1.0.0' } }, {}, controller.signal), {
      name: 'AbortError',
    });
  });
});

describe('edgesOf', () => {
  test('peers, then dependencies, then optional ones override by name; bundled ones left out', () => {
    assert.deepEqual(
      edgesOf({
        peerDependencies: { a: '1', b: '1', p: '2', q: '3' },
        peerDependenciesMeta: { q: { optional: true } },
        dependencies: { b: '2', c: '1', d: '1', bad: 7 },
        optionalDependencies: { c: '3' },
        bundleDependencies: ['d'],
      }),
      [
        { name: 'a', spec: '1', type: 'peer' },
        { name: 'b', spec: '2', type: 'prod' },
        { name: 'c', spec: '3', type: 'optional' },
        { name: 'p', spec: '2', type: 'peer' },
      ],
    );
    assert.deepEqual(
      edgesOf({ dependencies: { x: '1' }, bundledDependencies: true, peerDependencies: { y: '1' } }),
      [{ name: 'y', spec: '1', type: 'peer' }],
    );
  });
});
