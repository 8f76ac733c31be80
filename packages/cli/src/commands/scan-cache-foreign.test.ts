import { after, before, describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeRegistry, localModeEnv, newProjectDir, packFixture } from '../test-support/fake-registry.js';
import type { BuiltPackage } from '../test-support/fake-registry.js';
import { runCli } from '../test-support/run-cli.js';

// The warm re-check (services/warm-cache.ts) of pnpm and Yarn projects, with the built CLI in local
// mode against a fake upstream on 127.0.0.1: a re-scan of an unchanged project is answered from the
// stored verdicts without starting the server. Yarn Berry's lockfile has no npm integrity (its
// checksum hashes Yarn's zip), so the server takes upstream's; such a result is kept per upstream.

let work: string;
let registry: FakeRegistry;
let env: Record<string, string>;
let alpha: BuiltPackage;
let beta: BuiltPackage;

const uncached = (): Record<string, string> => ({ ...env, SECURE_REGISTRY_SCAN_CACHE: 'off' });
const withoutScanId = (json: string): unknown => ({ ...JSON.parse(json), scanId: undefined });
/** The plain first line names where the verdicts came from: the server's URL, or the data dir. */
const fromCache = (stdout: string): boolean => stdout.split('\n')[0]!.includes('→ stored verdicts in');
const MANIFEST = (deps: BuiltPackage[]) =>
  JSON.stringify({
    name: 'fixture-project',
    version: '1.0.0',
    dependencies: Object.fromEntries(deps.map((p) => [p.name, p.version])),
  });

/** yarn.lock as Yarn 4 writes it (the checksum stands in for Yarn's zip hash: nothing reads it). */
function berryLockfile(deps: BuiltPackage[]): string {
  const entries = deps.map(
    (p) =>
      `"${p.name}@npm:${p.version}":\n  version: ${p.version}\n  resolution: "${p.name}@npm:${p.version}"\n` +
      `  checksum: 10c0/${createHash('sha512').update(p.tarball).digest('hex')}\n  languageName: node\n  linkType: hard\n`,
  );
  const root =
    `"fixture-project@workspace:.":\n  version: 0.0.0-use.local\n  resolution: "fixture-project@workspace:."\n` +
    `  dependencies:\n${deps.map((p) => `    ${p.name}: "npm:${p.version}"\n`).join('')}` +
    `  languageName: unknown\n  linkType: soft\n`;
  return `__metadata:\n  version: 8\n  cacheKey: 10c0\n\n${[...entries, root].join('\n')}`;
}

function yarnV1Lockfile(deps: BuiltPackage[]): string {
  return `# yarn lockfile v1\n\n\n${deps
    .map(
      (p) =>
        `${p.name}@${p.version}:\n  version "${p.version}"\n  resolved "${registry.tarballUrl(p)}#${p.shasum}"\n  integrity ${p.integrity}\n`,
    )
    .join('\n')}`;
}

function pnpmLockfile(deps: BuiltPackage[]): string {
  const importer = deps.map(
    (p) => `      ${p.name}:\n        specifier: ${p.version}\n        version: ${p.version}\n`,
  );
  return (
    `lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: false\n\n` +
    `importers:\n\n  .:\n    dependencies:\n${importer.join('')}\n` +
    `packages:\n\n${deps.map((p) => `  ${p.name}@${p.version}:\n    resolution: {integrity: ${p.integrity}}\n`).join('\n')}\n` +
    `snapshots:\n\n${deps.map((p) => `  ${p.name}@${p.version}: {}\n`).join('\n')}`
  );
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sr-cli-scan-cache-foreign-'));
  registry = new FakeRegistry();
  alpha = packFixture({ name: 'zf-alpha', version: '1.0.0' });
  beta = packFixture({ name: 'zf-beta', version: '2.1.0' });
  for (const pkg of [alpha, beta]) registry.add(pkg);
  await registry.start();
  env = { ...localModeEnv(work, registry.url), CI: 'true' };
});
after(async () => {
  await registry.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('warm re-scan of pnpm and Yarn projects (local mode)', () => {
  for (const [kind, file, write] of [
    ['Yarn Berry', 'yarn.lock', berryLockfile],
    ['Yarn classic', 'yarn.lock', yarnV1Lockfile],
    ['pnpm v9', 'pnpm-lock.yaml', pnpmLockfile],
  ] as const) {
    test(`${kind}: an unchanged project is answered from the stored verdicts, as the server answers`, async () => {
      const dir = newProjectDir(work, kind.replace(' ', '-'));
      writeFileSync(join(dir, 'package.json'), MANIFEST([alpha, beta]));
      writeFileSync(join(dir, file), write([alpha, beta]));
      const first = await runCli(['scan', dir, '--json'], env);
      assert.equal(first.code, 0, first.stderr);
      // The first scan analysed the packages (or found them analysed by an earlier test): the next
      // one goes through the server, answered from stored verdicts, and is recorded.
      const second = await runCli(['scan', dir, '--json'], env);
      assert.equal(second.code, 0, second.stderr);
      const warm = await runCli(['scan', dir], env);
      assert.equal(warm.code, 0, warm.stderr);
      assert.ok(fromCache(warm.stdout), `${kind}: not answered from the cache:\n${warm.stdout}`);
      const warmJson = await runCli(['scan', dir, '--json'], env);
      const server = await runCli(['scan', dir, '--json'], uncached());
      assert.equal(warmJson.code, 0, warmJson.stderr);
      assert.deepEqual(withoutScanId(warmJson.stdout), withoutScanId(server.stdout));
      const integrities = JSON.parse(warmJson.stdout).packages.map((p: { integrity: string }) => p.integrity);
      assert.deepEqual(integrities, [alpha.integrity, beta.integrity]);
    });
  }

  test('Yarn Berry: another upstream is asked again (its bytes for a version may differ)', async () => {
    const dir = newProjectDir(work, 'berry-upstream');
    writeFileSync(join(dir, 'package.json'), MANIFEST([alpha]));
    writeFileSync(join(dir, 'yarn.lock'), berryLockfile([alpha]));
    assert.equal((await runCli(['scan', dir, '--json'], env)).code, 0);
    assert.equal((await runCli(['scan', dir, '--json'], env)).code, 0);
    assert.ok(fromCache((await runCli(['scan', dir], env)).stdout));
    const results = readdirSync(join(env.SECURE_REGISTRY_DATA_DIR!, 'scan-cache')).filter((f) =>
      f.startsWith('result-'),
    );

    // The same name and version with other bytes on another upstream: not the kept result.
    const other = new FakeRegistry();
    const changed = packFixture({ ...alpha, files: { 'index.js': 'module.exports = 43;\n' } });
    other.add(changed);
    await other.start();
    try {
      const elsewhere = { ...env, SECURE_REGISTRY_UPSTREAM: other.url };
      const scan = await runCli(['scan', dir], elsewhere);
      assert.equal(scan.code, 0, scan.stderr);
      assert.ok(!fromCache(scan.stdout), scan.stdout);
      const json = await runCli(['scan', dir, '--json'], elsewhere);
      assert.equal(JSON.parse(json.stdout).packages[0].integrity, changed.integrity);
      // The first upstream's result is still the one its scans get.
      const back = await runCli(['scan', dir, '--json'], env);
      assert.equal(JSON.parse(back.stdout).packages[0].integrity, alpha.integrity);
      assert.ok(
        readdirSync(join(env.SECURE_REGISTRY_DATA_DIR!, 'scan-cache')).filter((f) => f.startsWith('result-'))
          .length > results.length,
      );
    } finally {
      await other.stop();
    }
  });
});
