/**
 * Yarn berry (the `@yarnpkg/cli-dist` devDependency of e2e, run with this Node) against a real
 * `secure-registry-server` process whose verdicts come from a real scan.
 *
 * Configuration (.yarnrc.yml): `npmRegistryServer` = the vetted registry, `unsafeHttpWhitelist`
 * for 127.0.0.1, `enableGlobalCache: false`, `nodeLinker: node-modules`, `enableTelemetry: false`.
 * yarn.lock records `resolution: "<name>@npm:<version>"` and a checksum, never a registry URL, so a
 * lockfile made against the public registry installs from the configured `npmRegistryServer`.
 */
import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  REJECTED,
  assertExpectedVerdicts,
  assertSays,
  refusalCases,
  rejectionReason,
  startClientsWorld,
} from './clients-setup.js';
import type { ClientsWorld } from './clients-setup.js';
import { cleanEnv } from './support/npm-env.js';
import { runCommand } from './support/project.js';
import { YARN, yarnrc } from './support/clients.js';

async function installedVersion(dir: string, name: string): Promise<string> {
  const manifest = JSON.parse(
    await readFile(path.join(dir, 'node_modules', name, 'package.json'), 'utf8'),
  ) as { version: string };
  return manifest.version;
}

describe('yarn berry through the vetted registry (server process, real scan)', () => {
  let world: ClientsWorld;

  before(async () => {
    world = await startClientsWorld();
  });
  after(async () => world?.close());

  /** Runs yarn with a fresh HOME each time: yarn 4 keeps a global content index under it. */
  async function yarn(args: string[], cwd: string) {
    const home = await mkdtemp(path.join(world.tmp, 'yarn-home-'));
    return runCommand(process.execPath, [YARN, ...args], {
      cwd,
      env: cleanEnv({
        HOME: home,
        YARN_IGNORE_PATH: '1',
        YARN_ENABLE_PROGRESS_BARS: '0',
        FORCE_COLOR: '0',
      }),
      timeoutMs: 60_000,
    });
  }

  async function project(name: string, registry: string, deps: Record<string, string> = {}): Promise<string> {
    const dir = path.join(world.tmp, name);
    await mkdir(dir);
    await writeFile(
      path.join(dir, 'package.json'),
      `${JSON.stringify({ name, version: '1.0.0', private: true, dependencies: deps }, null, 2)}\n`,
    );
    await writeFile(path.join(dir, 'yarn.lock'), '');
    await writeFile(path.join(dir, '.yarnrc.yml'), yarnrc(registry));
    return dir;
  }

  /**
   * Points the project at the vetted registry and drops the project cache that resolving at the
   * upstream filled (yarn fetches every archive to compute its checksum): what is cached is
   * installed without asking any registry.
   */
  async function switchToVetted(dir: string): Promise<void> {
    await writeFile(path.join(dir, '.yarnrc.yml'), yarnrc(world.vetted));
    await rm(path.join(dir, '.yarn'), { recursive: true, force: true });
  }

  test('the scan approved the tree and rejected the hijacked release', () => {
    assertExpectedVerdicts(world);
  });

  test('an approved tree installs; ranges resolve to the highest approved version; scoped works', async () => {
    const dir = await project('yarn-approved', world.vetted);
    const result = await yarn(['add', 'cl-app@^1.0.0', 'fixture-termcolor@^1.0.0'], dir);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.equal(await installedVersion(dir, 'cl-lib'), '1.1.0');
    assert.equal(await installedVersion(dir, '@cl-scope/util'), '2.0.0');
    assert.equal(await installedVersion(dir, 'fixture-termcolor'), '1.0.0', '1.0.1 is rejected');
  });

  test('a lockfile resolved at the public registry installs through the vetted one', async () => {
    const dir = await project('yarn-public-lock', `${world.upstream.url}/`, { 'cl-app': '1.0.0' });
    const locked = await yarn(['install', '--mode=update-lockfile'], dir);
    assert.equal(locked.code, 0, locked.stderr + locked.stdout);
    const lock = await readFile(path.join(dir, 'yarn.lock'), 'utf8');
    assert.match(lock, /resolution: "cl-lib@npm:1\.1\.0"/);
    assert.ok(!lock.includes('127.0.0.1'), `yarn.lock names no registry:\n${lock}`);
    await switchToVetted(dir);
    const upstreamTarballs = world.upstream.tarballRequests().length;
    const result = await yarn(['install', '--immutable'], dir);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.equal(await installedVersion(dir, 'cl-lib'), '1.1.0');
    assert.equal(
      world.upstream.tarballRequests().length,
      upstreamTarballs,
      'no tarball came from the upstream',
    );
  });

  test('a lockfile pinning the rejected version fails with 403 and the reason on its tarball', async () => {
    const dir = await project('yarn-rejected', `${world.upstream.url}/`, {
      [REJECTED.name]: REJECTED.version,
    });
    const locked = await yarn(['install', '--mode=update-lockfile'], dir);
    assert.equal(locked.code, 0, locked.stderr + locked.stdout);
    await switchToVetted(dir);
    const result = await yarn(['install', '--immutable'], dir);
    assert.notEqual(result.code, 0, result.stdout);
    const output = result.stderr + result.stdout;
    assert.match(output, /403/);
    assert.ok(output.includes(`${REJECTED.name}@npm:${REJECTED.version}`), output);
    // yarn prints the status line: the reason phrase carries the verdict.
    assert.ok(
      output.replace(/\s+/g, '').includes(`rejected:${rejectionReason(world)}`.replace(/\s+/g, '')),
      output,
    );
  });

  test("every refusal says why in yarn's own output", async () => {
    for (const [i, refusal] of refusalCases(world).entries()) {
      const dir = await project(`yarn-refused-${i}`, world.vetted);
      const result = await yarn(['add', refusal.spec], dir);
      assert.notEqual(result.code, 0, `${refusal.title}: ${result.stdout}`);
      assertSays(result.stderr + result.stdout, refusal);
    }
  });

  test('a name that does not exist upstream stays a plain 404', async () => {
    const dir = await project('yarn-no-such-name', world.vetted);
    const result = await yarn(['add', 'cl-no-such-package'], dir);
    assert.notEqual(result.code, 0);
    const output = result.stderr + result.stdout;
    assert.match(output, /404 \(Not Found\)/);
    assert.doesNotMatch(output, /no approved version|refused/);
  });
});
