/**
 * npm (from PATH) and the built `secure-registry` CLI (`install`, `use`) against a real
 * `secure-registry-server` process whose verdicts come from a real scan.
 */
import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
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
import { describeResult, runCli } from './support/cli.js';
import { cleanEnv } from './support/npm-env.js';
import { makeProject, runCommand } from './support/project.js';

async function installedVersion(dir: string, name: string): Promise<string> {
  const manifest = JSON.parse(
    await readFile(path.join(dir, 'node_modules', name, 'package.json'), 'utf8'),
  ) as {
    version: string;
  };
  return manifest.version;
}

describe('npm through the vetted registry (server process, real scan)', () => {
  let world: ClientsWorld;
  let userconfig: string;

  before(async () => {
    world = await startClientsWorld();
    userconfig = path.join(world.tmp, 'empty-npmrc');
    await writeFile(userconfig, '');
  });
  after(async () => world?.close());

  async function npm(args: string[], cwd: string) {
    const cache = await mkdtemp(path.join(world.tmp, 'npm-cache-'));
    return runCommand(
      'npm',
      [...args, '--cache', cache, '--userconfig', userconfig, '--no-fund', '--no-audit', '--fetch-retries=0'],
      { cwd, env: cleanEnv({ npm_config_update_notifier: 'false' }), timeoutMs: 60_000 },
    );
  }

  test('the scan approved the tree and rejected the hijacked release', () => {
    assertExpectedVerdicts(world);
  });

  test('an approved tree installs; ranges resolve to the highest approved version; scoped works', async () => {
    const dir = path.join(world.tmp, 'npm-approved');
    await mkdir(dir);
    await writeFile(path.join(dir, 'package.json'), '{"name":"p","version":"1.0.0","private":true}\n');
    const result = await npm(
      ['install', '--registry', world.vetted, 'cl-app@^1.0.0', 'fixture-termcolor@^1.0.0'],
      dir,
    );
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.equal(await installedVersion(dir, 'cl-lib'), '1.1.0');
    assert.equal(await installedVersion(dir, '@cl-scope/util'), '2.0.0');
    assert.equal(await installedVersion(dir, 'fixture-termcolor'), '1.0.0', '1.0.1 is rejected');
  });

  test('a lockfile resolved at the public registry installs through the vetted one (--replace-registry-host=always)', async () => {
    const dir = path.join(world.tmp, 'npm-public-lock');
    const project = await makeProject(dir, { 'cl-app': '1.0.0' }, world.upstream.url);
    assert.ok(project.lockfile.packages['node_modules/cl-lib']?.resolved?.startsWith(world.upstream.url));
    const upstreamTarballs = world.upstream.tarballRequests().length;
    const result = await npm(['ci', '--registry', world.vetted, '--replace-registry-host=always'], dir);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.equal(await installedVersion(dir, 'cl-lib'), '1.1.0');
    assert.equal(
      world.upstream.tarballRequests().length,
      upstreamTarballs,
      'no tarball came from the upstream',
    );
  });

  test('npm ci of a lockfile pinning the rejected version fails with the reason', async () => {
    const dir = path.join(world.tmp, 'npm-rejected');
    await makeProject(dir, { [REJECTED.name]: REJECTED.version }, world.upstream.url);
    const result = await npm(['ci', '--registry', world.vetted, '--replace-registry-host=always'], dir);
    assert.notEqual(result.code, 0);
    const output = result.stderr + result.stdout;
    assert.match(output, /403 Forbidden/);
    assert.ok(output.includes(`rejected: ${rejectionReason(world)}`), output);
  });

  test("every refusal says why in npm's own output", async () => {
    for (const [i, refusal] of refusalCases(world).entries()) {
      const dir = path.join(world.tmp, `npm-refused-${i}`);
      await mkdir(dir);
      await writeFile(path.join(dir, 'package.json'), '{"name":"p","version":"1.0.0","private":true}\n');
      const result = await npm(['install', '--registry', world.vetted, refusal.spec], dir);
      assert.notEqual(result.code, 0, `${refusal.title}: ${result.stdout}`);
      assertSays(result.stderr + result.stdout, refusal);
    }
  });

  test('a name that does not exist upstream stays a plain 404', async () => {
    const dir = path.join(world.tmp, 'npm-no-such-name');
    await mkdir(dir);
    await writeFile(path.join(dir, 'package.json'), '{"name":"p","version":"1.0.0","private":true}\n');
    const result = await npm(['install', '--registry', world.vetted, 'cl-no-such-package'], dir);
    assert.notEqual(result.code, 0);
    const output = result.stderr + result.stdout;
    assert.match(output, /404 Not Found/);
    assert.doesNotMatch(output, /no approved version|refused/);
  });

  describe('secure-registry install (built CLI, hosted mode)', () => {
    const env = () => ({
      SECURE_REGISTRY_SERVER: world.server.url,
      npm_config_userconfig: userconfig,
      npm_config_cache: path.join(world.tmp, 'cli-npm-cache'),
      npm_config_update_notifier: 'false',
      npm_config_fetch_retries: '0',
    });
    const home = () => ({
      dataDir: path.join(world.tmp, 'cli-data'),
      configDir: path.join(world.tmp, 'cli-config'),
    });

    test('install <pkg>: resolves at the upstream, scans, installs through the vetted registry', async () => {
      const dir = path.join(world.tmp, 'cli-install');
      await mkdir(dir);
      await writeFile(path.join(dir, 'package.json'), '{"name":"p","version":"1.0.0","private":true}\n');
      const result = await runCli(['install', 'cl-app@^1.0.0', '--upstream', world.upstream.url], {
        home: home(),
        cwd: dir,
        env: env(),
      });
      assert.equal(result.code, 0, describeResult(result));
      assert.match(result.stdout, /scan passed: npm install through/);
      assert.equal(await installedVersion(dir, 'cl-lib'), '1.1.0');
      const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as {
        dependencies: Record<string, string>;
      };
      assert.equal(manifest.dependencies['cl-app'], '^1.0.0');
    });

    test('install of a rejected version exits 1 with the reason and leaves package.json and the lockfile as they were', async () => {
      const dir = path.join(world.tmp, 'cli-install-rejected');
      await makeProject(dir, { 'cl-lib': '^1.0.0' }, world.upstream.url);
      const before = {
        manifest: await readFile(path.join(dir, 'package.json'), 'utf8'),
        lock: await readFile(path.join(dir, 'package-lock.json'), 'utf8'),
      };
      const result = await runCli(
        ['install', `${REJECTED.name}@${REJECTED.version}`, '--upstream', world.upstream.url],
        { home: home(), cwd: dir, env: env() },
      );
      assert.equal(result.code, 1, describeResult(result));
      assert.match(
        result.stdout,
        new RegExp(`rejected\\s+${REJECTED.name}@${REJECTED.version.replace(/\./g, '\\.')}`),
      );
      assert.match(result.stderr, /not installed/);
      assert.equal(await readFile(path.join(dir, 'package.json'), 'utf8'), before.manifest);
      assert.equal(await readFile(path.join(dir, 'package-lock.json'), 'utf8'), before.lock);
    });

    test('use points npm at the vetted registry and --undo puts the old value back', async () => {
      const dir = path.join(world.tmp, 'cli-use');
      await mkdir(dir);
      await writeFile(path.join(dir, 'package.json'), '{"name":"p","version":"1.0.0","private":true}\n');
      const own = path.join(world.tmp, 'use-npmrc');
      await writeFile(own, 'registry=https://registry.example/\n');
      const useEnv = { ...env(), npm_config_userconfig: own };
      const used = await runCli(['use'], { home: home(), cwd: dir, env: useEnv });
      assert.equal(used.code, 0, describeResult(used));
      assert.match(await readFile(own, 'utf8'), new RegExp(`registry=${world.vetted}`));
      // Plain npm now installs from the vetted registry without any flag.
      const cache = await mkdtemp(path.join(world.tmp, 'npm-cache-'));
      const install = await runCommand(
        'npm',
        ['install', 'fixture-termcolor', '--cache', cache, '--no-audit'],
        {
          cwd: dir,
          env: cleanEnv({ npm_config_userconfig: own, npm_config_update_notifier: 'false' }),
          timeoutMs: 60_000,
        },
      );
      assert.equal(install.code, 0, install.stderr);
      assert.equal(await installedVersion(dir, 'fixture-termcolor'), '1.0.0');
      const undone = await runCli(['use', '--undo'], { home: home(), cwd: dir, env: useEnv });
      assert.equal(undone.code, 0, describeResult(undone));
      assert.equal(await readFile(own, 'utf8'), 'registry=https://registry.example/\n');
    });
  });
});
