import { after, before, describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  dropperFixtures,
  FakeRegistry,
  localModeEnv,
  newProjectDir,
  packFixture,
  writeProject,
} from '../test-support/fake-registry.js';
import type { BuiltPackage } from '../test-support/fake-registry.js';
import { runCli } from '../test-support/run-cli.js';

// The warm re-check (services/warm-cache.ts) with the built CLI in local mode against a fake
// upstream on 127.0.0.1: a re-scan of an unchanged project is answered from the stored verdicts
// without starting the server, with the same output and exit code as a scan through the server
// (SECURE_REGISTRY_SCAN_CACHE=off), and any verdict changed afterwards is seen.

let work: string;
let registry: FakeRegistry;
let env: Record<string, string>;
let benign: BuiltPackage;
let dropper: BuiltPackage;
let parent: BuiltPackage;
let other: BuiltPackage;

const uncached = (): Record<string, string> => ({ ...env, SECURE_REGISTRY_SCAN_CACHE: 'off' });
const withoutScanId = (json: string): unknown => ({ ...JSON.parse(json), scanId: undefined });
const withoutSarifScanId = (sarif: string): string =>
  sarif.replace(/"secure-registry\/scan\/[0-9a-f-]{36}"/, '"secure-registry/scan/ID"');
/** The plain first line names where the verdicts came from: the server's URL, or the data dir. */
const fromCache = (stdout: string): boolean => stdout.split('\n')[0]!.includes('→ stored verdicts in');
const newDir = (name: string): string => newProjectDir(work, name);

function setVerdict(pkg: BuiltPackage, verdict: string, reason: string, touch: boolean): void {
  const db = new DatabaseSync(join(env.SECURE_REGISTRY_DATA_DIR!, 'secure-registry.db'));
  try {
    const updated = db
      .prepare(
        `UPDATE artifacts SET verdict = ?, reason = ?${touch ? ', updated_at = ?' : ''} WHERE name = ? AND version = ?`,
      )
      .run(...[verdict, reason, ...(touch ? [new Date().toISOString()] : []), pkg.name, pkg.version]);
    assert.equal(updated.changes, 1);
  } finally {
    db.close();
  }
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'sr-cli-scan-cache-'));
  registry = new FakeRegistry();
  ({ benign, dropper, parent } = dropperFixtures('zc'));
  other = packFixture({ name: 'zc-other', version: '1.0.0' });
  for (const pkg of [benign, other, dropper, parent]) registry.add(pkg);
  await registry.start();
  env = { ...localModeEnv(work, registry.url), CI: 'true' };
});
after(async () => {
  await registry.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('warm re-scan from the stored verdicts (local mode)', () => {
  test('same JSON, SARIF, plain result and exit code as a scan through the server', async () => {
    const dir = newDir('rejected');
    writeProject(dir, { registry, direct: [parent, benign], transitive: [dropper] });
    const first = await runCli(['scan', dir, '--json'], env);
    assert.equal(first.code, 1, first.stderr);
    // The first scan analysed the packages: the next one goes through the server and is recorded.
    const second = await runCli(['scan', dir, '--json'], env);
    assert.equal(second.code, 1, second.stderr);
    assert.deepEqual(withoutScanId(second.stdout), withoutScanId(first.stdout));
    assert.ok(
      readdirSync(join(env.SECURE_REGISTRY_DATA_DIR!, 'scan-cache')).some((f) => f.startsWith('result-')),
    );

    const plain = await runCli(['scan', dir], env);
    assert.equal(plain.code, 1, plain.stderr);
    assert.ok(fromCache(plain.stdout), plain.stdout);
    const plainServer = await runCli(['scan', dir], uncached());
    assert.equal(plainServer.code, 1, plainServer.stderr);
    assert.ok(!fromCache(plainServer.stdout), plainServer.stdout);
    // Everything after the first line (which names the server or the data dir) is the same.
    const body = (stdout: string) => stdout.split('\n').slice(1).join('\n');
    assert.equal(body(plain.stdout), body(plainServer.stdout));
    assert.match(plain.stdout, /blocked +zc-parent@2\.0\.0 +depends on rejected zc-dropper@1\.0\.0/);

    for (const format of ['--json', '--sarif']) {
      const warm = await runCli(['scan', dir, format], env);
      const server = await runCli(['scan', dir, format], uncached());
      assert.equal(warm.code, 1, warm.stderr);
      assert.equal(server.code, 1, server.stderr);
      assert.equal(warm.stderr, server.stderr);
      if (format === '--json') assert.deepEqual(withoutScanId(warm.stdout), withoutScanId(server.stdout));
      // The SARIF run names its scan (the recorded one when answered from the stored verdicts).
      else assert.equal(withoutSarifScanId(warm.stdout), withoutSarifScanId(server.stdout));
    }
    const failOn = await runCli(['scan', dir, '--json', '--fail-on', 'none'], env);
    const failOnServer = await runCli(['scan', dir, '--json', '--fail-on', 'none'], uncached());
    assert.equal(failOn.code, 0, failOn.stderr);
    assert.equal(failOnServer.code, 0, failOnServer.stderr);
    assert.deepEqual(withoutScanId(failOn.stdout), withoutScanId(failOnServer.stdout));
  });

  test('a verdict changed after the fact is seen: never a stale approval', async () => {
    const dir = newDir('approved');
    writeProject(dir, { registry, direct: [benign, other] });
    const first = await runCli(['scan', dir, '--json'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.equal((await runCli(['scan', dir, '--json'], env)).code, 0);
    const warm = await runCli(['scan', dir], env);
    assert.equal(warm.code, 0, warm.stderr);
    assert.ok(fromCache(warm.stdout), warm.stdout);

    // As a re-analysis or a review would: the stored row changes (its updated_at with it).
    setVerdict(benign, 'rejected', 'rejected after the fact', true);
    const after = await runCli(['scan', dir, '--json'], env);
    assert.equal(after.code, 1, after.stderr);
    const pkg = JSON.parse(after.stdout).packages.find((p: { name: string }) => p.name === benign.name);
    assert.equal(pkg.verdict, 'rejected');
    assert.equal(pkg.reason, 'rejected after the fact');

    // Even a write that leaves updated_at alone changes the row's signature.
    setVerdict(other, 'review', 'held after the fact', false);
    const held = await runCli(['scan', dir, '--json'], env);
    const heldServer = await runCli(['scan', dir, '--json'], uncached());
    assert.equal(held.code, 1, held.stderr);
    assert.equal(heldServer.code, 1, heldServer.stderr);
    assert.deepEqual(withoutScanId(held.stdout), withoutScanId(heldServer.stdout));
    const states = JSON.parse(held.stdout).packages.map((p: { name: string; verdict: string }) => [
      p.name,
      p.verdict,
    ]);
    assert.deepEqual(states, [
      [benign.name, 'rejected'],
      [other.name, 'review'],
    ]);
  });

  test('a changed lockfile is read again', async () => {
    const dir = newDir('changed');
    writeProject(dir, { registry, direct: [benign] });
    assert.equal((await runCli(['scan', dir, '--json'], env)).code, 1, 'zc-benign was rejected above');
    writeProject(dir, { registry, direct: [parent], transitive: [dropper] });
    const changed = await runCli(['scan', dir, '--json'], env);
    assert.equal(changed.code, 1, changed.stderr);
    const names = JSON.parse(changed.stdout).packages.map((p: { name: string }) => p.name);
    assert.deepEqual(names.sort(), [dropper.name, parent.name]);
  });
});
