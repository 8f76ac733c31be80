/**
 * The built CLI in local mode (no server configured) against the fixture upstream:
 * `install` through a registry started for the run, and the git pre-commit hook from
 * `hook install` running a real `scan` of the staged lockfile.
 */
import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { describeResult, makeCliHome, runCli } from './support/cli.js';
import type { CliHome } from './support/cli.js';
import { startFixtureRegistry } from './support/fixture-registry.js';
import type { FixtureRegistry } from './support/fixture-registry.js';
import { FIXTURE_PACKAGES_DIR } from './support/paths.js';
import { cleanEnv } from './support/npm-env.js';
import { makeProject, runCommand } from './support/project.js';

describe('secure-registry install and hook in local mode (built CLI)', () => {
  let upstream: FixtureRegistry;
  let tmp: string;
  let home: CliHome;
  let userconfig: string;

  before(async () => {
    upstream = await startFixtureRegistry({
      packages: { dir: path.join(FIXTURE_PACKAGES_DIR, 'signals', 'termcolor') },
    });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'sr-e2e-cli-local-'));
    home = await makeCliHome(tmp);
    userconfig = path.join(tmp, 'npmrc');
    await writeFile(userconfig, '');
  });
  after(async () => {
    await upstream?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const env = () => ({
    SR_SANDBOX: 'off',
    npm_config_userconfig: userconfig,
    npm_config_cache: path.join(tmp, 'npm-cache'),
    npm_config_update_notifier: 'false',
  });

  test('install <pkg> resolves, scans, and installs through a registry started for the run', async () => {
    const dir = path.join(tmp, 'install');
    await mkdir(dir);
    await writeFile(path.join(dir, 'package.json'), '{"name":"p","version":"1.0.0","private":true}\n');
    const result = await runCli(['install', 'fixture-termcolor@1.0.0', '--upstream', upstream.url], {
      home,
      cwd: dir,
      env: env(),
    });
    assert.equal(result.code, 0, describeResult(result));
    const installed = JSON.parse(
      await readFile(path.join(dir, 'node_modules', 'fixture-termcolor', 'package.json'), 'utf8'),
    ) as { version: string };
    assert.equal(installed.version, '1.0.0');
  });

  test('the pre-commit hook scans a staged lockfile and stops the commit of a rejected version', async () => {
    const dir = path.join(tmp, 'repo');
    await makeProject(dir, { 'fixture-termcolor': '1.0.1' }, upstream.url);
    // The hook scans in local mode; the project's .npmrc names the upstream.
    await writeFile(path.join(dir, '.npmrc'), `registry=${upstream.url}/\n`);
    // Asynchronous: the fixture upstream answers from this process while the hook scans.
    const git = (args: string[]) =>
      runCommand('git', args, {
        cwd: dir,
        timeoutMs: 120_000,
        env: cleanEnv({
          ...env(),
          GIT_AUTHOR_NAME: 't',
          GIT_AUTHOR_EMAIL: 't@example.test',
          GIT_COMMITTER_NAME: 't',
          GIT_COMMITTER_EMAIL: 't@example.test',
          SECURE_REGISTRY_DATA_DIR: home.dataDir,
          SECURE_REGISTRY_CONFIG_DIR: home.configDir,
          CI: '1',
        }),
      });
    assert.equal((await git(['init', '-q'])).code, 0);
    const installed = await runCli(['hook', 'install'], { home, cwd: dir, env: env() });
    assert.equal(installed.code, 0, describeResult(installed));
    assert.match(installed.stdout, /\.git\/hooks\/pre-commit/);

    await git(['add', 'package.json', 'package-lock.json']);
    const blocked = await git(['commit', '-m', 'add termcolor 1.0.1']);
    assert.equal(blocked.code, 1, blocked.stdout + blocked.stderr);
    assert.match(blocked.stdout + blocked.stderr, /rejected\s+fixture-termcolor@1\.0\.1/);
    assert.match(blocked.stderr, /commit stopped \(scan exit 1\)/);
    assert.notEqual((await git(['rev-parse', '--verify', 'HEAD'])).code, 0, 'nothing was committed');

    const removed = await runCli(['hook', 'install', '--uninstall'], { home, cwd: dir, env: env() });
    assert.equal(removed.code, 0, describeResult(removed));
    assert.equal((await git(['commit', '-q', '-m', 'no hook'])).code, 0);
  });
});
