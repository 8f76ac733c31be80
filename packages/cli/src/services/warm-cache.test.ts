import { after, before, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import type { DependencyGraph, ScanResult } from '@secure-registry/shared';
import { SAMPLE_RESULT } from '../test-support/scan-fixtures.js';
import { openConfigStore } from './config.js';
import { loadLockfile } from './lockfile.js';
import { configFilePath, readStoredConfig } from './target.js';
import { openScanCache, UPSTREAM_RESOLVED_MAX_AGE_MS } from './warm-cache.js';

const FIXTURES = fileURLToPath(new URL('../../../../fixtures/lockfiles/', import.meta.url));
let work: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'sr-cli-warm-cache-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

/** npm/cli's lockfile with its workspaces on disk, as in a checkout. */
function npmCliProject(): string {
  const dir = join(work, 'npm-cli');
  mkdirSync(dir);
  const text = readFileSync(join(FIXTURES, 'npm-cli-v3.package-lock.json'), 'utf8');
  writeFileSync(join(dir, 'package-lock.json'), text);
  const packages = JSON.parse(text).packages as Record<string, Record<string, unknown>>;
  writeFileSync(join(dir, 'package.json'), JSON.stringify(packages['']));
  for (const [location, entry] of Object.entries(packages)) {
    if (location === '' || location.includes('node_modules/')) continue;
    mkdirSync(join(dir, location), { recursive: true });
    writeFileSync(join(dir, location, 'package.json'), JSON.stringify(entry));
  }
  return dir;
}

test('the graph cache returns what Arborist read, until an input it reads changes', async () => {
  const dir = npmCliProject();
  const cache = await openScanCache(join(work, 'data'), '0.0.0-test');
  assert.equal(await cache.cachedLockfile(dir), undefined);
  const loaded = await loadLockfile(dir);
  assert.equal(loaded.reader, 'arborist');
  await cache.saveLockfile(dir, loaded);
  assert.deepEqual(await cache.cachedLockfile(dir), loaded);

  // A new workspace folder matching the root's globs changes what Arborist sees.
  const workspaces = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { workspaces: string[] })
    .workspaces;
  const glob = workspaces.find((w) => w.endsWith('/*'));
  assert.ok(glob, JSON.stringify(workspaces));
  const extra = join(dir, glob.slice(0, -2), 'zz-new-workspace');
  mkdirSync(extra, { recursive: true });
  writeFileSync(join(extra, 'package.json'), JSON.stringify({ name: 'zz-new-workspace', version: '1.0.0' }));
  assert.equal(await cache.cachedLockfile(dir), undefined);
  rmSync(extra, { recursive: true });
  assert.deepEqual(await cache.cachedLockfile(dir), loaded);

  // Any byte of the lockfile or package.json.
  const lock = readFileSync(join(dir, 'package-lock.json'), 'utf8');
  writeFileSync(join(dir, 'package-lock.json'), `${lock}\n`);
  assert.equal(await cache.cachedLockfile(dir), undefined);
  writeFileSync(join(dir, 'package-lock.json'), lock);
  const manifest = readFileSync(join(dir, 'package.json'), 'utf8');
  writeFileSync(join(dir, 'package.json'), ` ${manifest}`);
  assert.equal(await cache.cachedLockfile(dir), undefined);
  writeFileSync(join(dir, 'package.json'), manifest);
  assert.deepEqual(await cache.cachedLockfile(dir), loaded);
  // Another CLI version starts over.
  const next = await openScanCache(join(work, 'data'), '0.0.1-test');
  assert.equal(await next.cachedLockfile(dir), undefined);
});

/** As the cache stores it (JSON: a field set to undefined is absent). */
const asStored = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

test('pnpm and Yarn graphs are kept until the lockfile or a manifest or listing their reader read changes', async () => {
  const fixture = join(FIXTURES, 'same-project');
  const manifest = readFileSync(join(fixture, 'package.json'), 'utf8');
  for (const [name, file] of [
    ['pnpm-lock.yaml', 'pnpm-v9.pnpm-lock.yaml'],
    ['yarn.lock', 'yarn-v1.yarn.lock'],
  ] as const) {
    const dir = join(work, `foreign-${name}`);
    mkdirSync(dir);
    writeFileSync(join(dir, name), readFileSync(join(fixture, file)));
    writeFileSync(join(dir, 'package.json'), manifest);
    const cache = await openScanCache(join(work, 'data'), '0.0.0-test');
    const inputs = new Map<string, string | undefined>();
    const loaded = await loadLockfile(dir, { inputs });
    assert.ok(inputs.has(join(dir, 'package.json')), [...inputs.keys()].join(', '));
    await cache.saveLockfile(dir, loaded); // without what the reader read, nothing is kept
    assert.equal(await cache.cachedLockfile(dir), undefined);
    await cache.saveLockfile(dir, loaded, inputs);
    assert.deepEqual(await cache.cachedLockfile(dir), asStored(loaded));

    writeFileSync(join(dir, 'package.json'), manifest.replace('"1.0.0"', '"1.0.1"'));
    assert.equal(await cache.cachedLockfile(dir), undefined, `${name}: the manifest changed`);
    writeFileSync(join(dir, 'package.json'), manifest);
    assert.deepEqual(await cache.cachedLockfile(dir), asStored(loaded));
    const lock = readFileSync(join(dir, name), 'utf8');
    writeFileSync(join(dir, name), `${lock}\n`);
    assert.equal(await cache.cachedLockfile(dir), undefined, `${name}: the lockfile changed`);
    writeFileSync(join(dir, name), lock);
    assert.deepEqual(await cache.cachedLockfile(dir), asStored(loaded));
  }

  // Yarn classic lists workspace folders: a new one is a miss.
  const dir = join(work, 'yarn-workspaces');
  mkdirSync(join(dir, 'packages', 'a'), { recursive: true });
  writeFileSync(join(dir, 'yarn.lock'), readFileSync(join(fixture, 'yarn-v1.yarn.lock')));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ ...JSON.parse(manifest), workspaces: ['packages/*'] }),
  );
  writeFileSync(join(dir, 'packages', 'a', 'package.json'), JSON.stringify({ name: 'a', version: '1.0.0' }));
  const cache = await openScanCache(join(work, 'data'), '0.0.0-test');
  const inputs = new Map<string, string | undefined>();
  const loaded = await loadLockfile(dir, { inputs });
  await cache.saveLockfile(dir, loaded, inputs);
  assert.deepEqual(await cache.cachedLockfile(dir), asStored(loaded));
  mkdirSync(join(dir, 'packages', 'b'));
  assert.equal(await cache.cachedLockfile(dir), undefined, 'a new workspace folder');
});

test('a result whose integrity came from upstream is kept per upstream, for a bounded time', async () => {
  // SAMPLE_RESULT's approved package, read from a Yarn Berry lockfile: no lockfile integrity, the
  // server took upstream's.
  const pkg = SAMPLE_RESULT.packages[0]!;
  const dataDir = join(work, 'data-upstream');
  mkdirSync(dataDir);
  const db = new DatabaseSync(join(dataDir, 'secure-registry.db'));
  db.exec(
    'CREATE TABLE artifacts (name TEXT, version TEXT, integrity TEXT, verdict TEXT, reason TEXT, findings TEXT, rule_set_version TEXT, decided_at TEXT, updated_at TEXT)',
  );
  db.prepare("INSERT INTO artifacts VALUES (?, ?, ?, 'approved', NULL, '[]', '1', 't', 't')").run(
    pkg.name,
    pkg.version,
    pkg.integrity!,
  );
  db.close();
  const { key, name, version, source } = pkg;
  const graph: DependencyGraph = {
    root: {},
    nodes: [
      { key, name, version, source, dev: false, optional: false, peer: false, hasInstallScript: false },
    ],
    edges: [{ from: '', to: key, type: 'prod' }],
  };
  const result: ScanResult = { ...SAMPLE_RESULT, packages: [pkg] };
  const scan = { result, events: [{ type: 'scan.completed' as const, scan: result }] };
  let clock = 1_000_000;
  const cache = await openScanCache(dataDir, '0.0.0-test', undefined, () => clock);
  const upstream = 'https://registry.example/';
  await cache.saveResult(graph, 'p', scan); // local mode without the upstream: not kept
  assert.equal(await cache.cachedResult(graph, 'p', upstream), undefined);
  await cache.saveResult(graph, 'p', scan, upstream);
  assert.deepEqual(await cache.cachedResult(graph, 'p', upstream), asStored(scan));
  assert.equal(await cache.cachedResult(graph, 'p'), undefined);
  assert.equal(await cache.cachedResult(graph, 'p', 'https://other.example/'), undefined);
  clock += UPSTREAM_RESOLVED_MAX_AGE_MS;
  assert.deepEqual(await cache.cachedResult(graph, 'p', upstream), asStored(scan));
  clock += 1;
  assert.equal(await cache.cachedResult(graph, 'p', upstream), undefined, 'too old');

  // Upstream gave no integrity (an outage): nothing is kept, the next scan asks again.
  const held: ScanResult = {
    ...result,
    packages: [{ ...pkg, integrity: undefined, state: 'review', reason: 'could not fetch from upstream' }],
  };
  const other = 'https://held.example/';
  await cache.saveResult(
    graph,
    'p',
    { result: held, events: [{ type: 'scan.completed', scan: held }] },
    other,
  );
  assert.equal(await cache.cachedResult(graph, 'p', other), undefined);
});

test('the stored login is read from the file Conf writes', async () => {
  const env = { SECURE_REGISTRY_CONFIG_DIR: join(work, 'config') };
  assert.deepEqual(await readStoredConfig(env), {});
  const store = openConfigStore(env);
  assert.equal(configFilePath(env), store.path);
  store.set('server', 'https://registry.example');
  store.set('token', 't0k');
  assert.deepEqual(await readStoredConfig(env), { ...store.store });
});
