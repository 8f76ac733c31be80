import { strict as assert } from 'node:assert';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PNPM, YARN, yarnrc } from './support/clients.js';
import { describeResult, makeCliHome, runCli } from './support/cli.js';
import type { CliHome } from './support/cli.js';
import { startFixtureRegistry } from './support/fixture-registry.js';
import type { FixturePackage, FixtureRegistry } from './support/fixture-registry.js';
import { cleanEnv } from './support/npm-env.js';
import { makeProject, runCommand } from './support/project.js';
import type { CommandResult } from './support/project.js';

// `secure-registry scripts` writes each client's install-script allow-list from the verdicts, and
// the real clients obey it: the package whose install script ran in the sandbox and was approved
// builds, the one approved on static analysis alone (the sandbox never ran its script) does not.
// Both scripts only write a marker file into their own package directory.
function builder(name: string): FixturePackage {
  return {
    manifest: {
      name,
      version: '1.0.0',
      license: 'MIT',
      main: 'index.js',
      scripts: { postinstall: 'node build.js' },
    },
    files: {
      'index.js': 'module.exports = 1;\n',
      'build.js': "require('fs').writeFileSync(require('path').join(__dirname, 'built.txt'), 'built\\n');\n",
    },
  };
}

const DEPS = { 'fixture-build-seen': '1.0.0', 'fixture-build-unseen': '1.0.0' };

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

describe('secure-registry scripts: allow-lists the clients obey (built CLI, npm, pnpm, yarn)', () => {
  let registry: FixtureRegistry;
  let tmp: string;
  let home: CliHome;
  before(async () => {
    registry = await startFixtureRegistry({
      extraPackages: [builder('fixture-build-seen'), builder('fixture-build-unseen')],
    });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'sr-e2e-scripts-'));
    home = await makeCliHome(tmp);
    // fixture-build-seen is vetted with the sandbox: its install script runs there.
    const seen = path.join(tmp, 'seen');
    await makeProject(seen, { 'fixture-build-seen': '1.0.0' }, registry.url);
    const scan = await runCli(['scan', seen, '--json', '--upstream', registry.url], {
      home,
      sandbox: true,
      timeoutMs: 300_000,
    });
    assert.equal(scan.code, 0, describeResult(scan));
  });
  after(async () => {
    await registry.close();
    await rm(tmp, { recursive: true, force: true });
  });

  /** `scripts` with the sandbox off: fixture-build-unseen is vetted on static analysis alone. */
  function scripts(dir: string, ...args: string[]): Promise<CommandResult> {
    return runCli(['scripts', dir, '--upstream', registry.url, ...args], { home, timeoutMs: 300_000 });
  }

  function assertDecisions(result: CommandResult): void {
    assert.equal(result.code, 0, describeResult(result));
    assert.match(
      result.stdout,
      /^allow {2}fixture-build-seen@1\.0\.0 {2}install script observed in the sandbox, approved$/m,
    );
    assert.match(
      result.stdout,
      /^deny {3}fixture-build-unseen@1\.0\.0 {2}approved without running its install script in the sandbox$/m,
    );
  }

  test('npm 11: package.json allowScripts; npm install runs the allowed script and skips the other', async () => {
    const dir = path.join(tmp, 'npm');
    await makeProject(dir, DEPS, registry.url);
    const before = await readFile(path.join(dir, 'package.json'), 'utf8');
    const dry = await scripts(dir);
    assertDecisions(dry);
    assert.match(dry.stdout, /^\+ {2}"allowScripts": \{$/m, dry.stdout);
    assert.match(dry.stdout, /^\+ {4}"fixture-build-seen@1\.0\.0": true,$/m);
    assert.match(dry.stdout, /^\+ {4}"fixture-build-unseen@1\.0\.0": false$/m);
    assert.match(dry.stdout, /dry run: nothing written/);
    assert.equal(await readFile(path.join(dir, 'package.json'), 'utf8'), before, 'the dry run wrote');

    const written = await scripts(dir, '--write');
    assertDecisions(written);
    const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as {
      allowScripts: Record<string, boolean>;
    };
    assert.deepEqual(manifest.allowScripts, {
      'fixture-build-seen@1.0.0': true,
      'fixture-build-unseen@1.0.0': false,
    });
    assert.match((await scripts(dir)).stdout, /already up to date/);

    await writeFile(path.join(dir, '.npmrc'), `registry=${registry.url}/\n`);
    const install = await runCommand(
      'npm',
      ['install', '--no-audit', '--no-fund', '--no-update-notifier', '--cache', path.join(tmp, 'npm-cache')],
      { cwd: dir, env: cleanEnv({ npm_config_userconfig: path.join(dir, '.npmrc') }), timeoutMs: 120_000 },
    );
    assert.equal(install.code, 0, `${install.stdout}\n${install.stderr}`);
    assert.ok(
      await exists(path.join(dir, 'node_modules/fixture-build-seen/built.txt')),
      'the allowed script did not run',
    );
    assert.ok(
      !(await exists(path.join(dir, 'node_modules/fixture-build-unseen/built.txt'))),
      'the denied script ran',
    );
  });

  test('pnpm: pnpm-workspace.yaml allowBuilds; pnpm install builds only the allowed package', async () => {
    const dir = path.join(tmp, 'pnpm');
    await makeProject(dir, DEPS, registry.url);
    await rm(path.join(dir, 'package-lock.json'));
    const pnpm = (args: string[]) =>
      runCommand(
        process.execPath,
        [
          PNPM,
          ...args,
          '--registry',
          `${registry.url}/`,
          '--store-dir',
          path.join(tmp, 'pnpm-store'),
          '--reporter=append-only',
        ],
        {
          cwd: dir,
          env: cleanEnv({
            HOME: path.join(tmp, 'pnpm-home'),
            XDG_CONFIG_HOME: path.join(tmp, 'pnpm-home/.config'),
          }),
          timeoutMs: 120_000,
        },
      );
    const lock = await pnpm(['install', '--lockfile-only']);
    assert.equal(lock.code, 0, `${lock.stdout}\n${lock.stderr}`);
    const written = await scripts(dir, '--write');
    assertDecisions(written);
    const yaml = await readFile(path.join(dir, 'pnpm-workspace.yaml'), 'utf8');
    assert.match(
      yaml,
      /^allowBuilds:\n {2}fixture-build-seen@1\.0\.0: true\n {2}fixture-build-unseen@1\.0\.0: false\n/m,
      yaml,
    );
    const install = await pnpm(['install', '--frozen-lockfile']);
    assert.equal(install.code, 0, `${install.stdout}\n${install.stderr}`);
    const built = (name: string) =>
      path.join(dir, `node_modules/.pnpm/${name}@1.0.0/node_modules/${name}/built.txt`);
    assert.ok(
      await exists(built('fixture-build-seen')),
      `the allowed script did not run:\n${install.stdout}`,
    );
    assert.ok(!(await exists(built('fixture-build-unseen'))), 'the denied script ran');
  });

  test('yarn berry: dependenciesMeta.<name>.built; yarn install builds only the allowed package', async () => {
    const dir = path.join(tmp, 'yarn');
    await makeProject(dir, DEPS, registry.url);
    await rm(path.join(dir, 'package-lock.json'));
    await writeFile(path.join(dir, 'yarn.lock'), '');
    await writeFile(path.join(dir, '.yarnrc.yml'), yarnrc(registry.url));
    const yarnHome = await mkdtemp(path.join(tmp, 'yarn-home-'));
    const yarn = (args: string[]) =>
      runCommand(process.execPath, [YARN, ...args], {
        cwd: dir,
        env: cleanEnv({
          HOME: yarnHome,
          YARN_IGNORE_PATH: '1',
          YARN_ENABLE_PROGRESS_BARS: '0',
          FORCE_COLOR: '0',
        }),
        timeoutMs: 120_000,
      });
    const lock = await yarn(['install', '--mode=update-lockfile']);
    assert.equal(lock.code, 0, `${lock.stdout}\n${lock.stderr}`);
    const written = await scripts(dir, '--write');
    assertDecisions(written);
    const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as {
      dependenciesMeta: Record<string, { built: boolean }>;
    };
    assert.deepEqual(manifest.dependenciesMeta, {
      'fixture-build-seen@1.0.0': { built: true },
      'fixture-build-unseen@1.0.0': { built: false },
    });
    const install = await yarn(['install']);
    assert.equal(install.code, 0, `${install.stdout}\n${install.stderr}`);
    assert.ok(await exists(path.join(dir, 'node_modules/fixture-build-seen/built.txt')), install.stdout);
    assert.ok(
      !(await exists(path.join(dir, 'node_modules/fixture-build-unseen/built.txt'))),
      'the denied script ran',
    );
  });
});
