/**
 * The published packages, proven: `npm pack` of every publishable workspace, the tarballs
 * installed into an empty directory outside the repository (third-party dependencies from npm's
 * registry or its cache), then `secure-registry --help`, a local-mode scan of a tiny project
 * against a loopback fixture upstream and `secure-registry-server --help`, all from there. And an
 * unsupported Node (the machine's older one, when there is one) gets one line and exit 3.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { copyFile, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { describeResult } from './support/cli.js';
import { startFixtureRegistry } from './support/fixture-registry.js';
import type { FixtureRegistry } from './support/fixture-registry.js';
import { cleanEnv } from './support/npm-env.js';
import { REPO_ROOT } from './support/paths.js';
import { runCommand } from './support/project.js';

/** The workspaces that are published, in dependency order. */
const PUBLISHED = ['shared', 'analyzer', 'server', 'cli'] as const;

/** A Node on this machine older than the project supports (e.g. the system's /usr/bin/node), if any. */
function olderNode(): string | undefined {
  const which = spawnSync('which', ['-a', 'node'], { encoding: 'utf8' });
  const candidates = [
    ...new Set([...(which.stdout ?? '').split('\n'), '/usr/bin/node', '/usr/local/bin/node']),
  ];
  for (const candidate of candidates.filter(Boolean)) {
    const probe = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    const [major = 0, minor = 0] = (probe.stdout ?? '').trim().split('.').map(Number);
    if (probe.status === 0 && (major < 22 || (major === 22 && minor < 12))) return candidate;
  }
  return undefined;
}

describe('packed tarballs installed outside the repository', () => {
  let tmp: string;
  let app: string;
  let registry: FixtureRegistry;
  // The installed bins, run with this Node (their `#!/usr/bin/env node` would take PATH's).
  const bin = (name: string) => path.join(app, 'node_modules', '.bin', name);
  // npm's cache is kept (offline when it holds everything); no npm_* variables of the outer run.
  const env = () => cleanEnv({ CI: '1', NO_COLOR: '1', SR_SANDBOX: 'off' });

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'sr-pack-'));
    registry = await startFixtureRegistry({
      packages: [
        {
          manifest: { name: 'pk-dep', version: '1.0.0', main: 'index.js', license: 'MIT' },
          files: { 'index.js': 'module.exports = 1;\n' },
        },
      ],
    });
    const tarballs = path.join(tmp, 'tarballs');
    await mkdir(tarballs);
    for (const name of PUBLISHED) {
      const packed = await runCommand('npm', ['pack', '--json', '--pack-destination', tarballs], {
        cwd: path.join(REPO_ROOT, 'packages', name),
        env: env(),
        timeoutMs: 120_000,
      });
      assert.equal(packed.code, 0, describeResult(packed));
    }
    app = path.join(tmp, 'app');
    await mkdir(app);
    await writeFile(path.join(app, 'package.json'), '{ "name": "pack-test", "private": true }\n');
    const files = PUBLISHED.map((name) => path.join(tarballs, `secure-registry-${name}-0.1.0.tgz`));
    const installed = await runCommand(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...files],
      { cwd: app, env: env(), timeoutMs: 600_000 },
    );
    assert.equal(installed.code, 0, describeResult(installed));
  });
  after(async () => {
    await registry?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test('each package is installed from its tarball, without tests, test support or a link to the repo', async () => {
    for (const name of PUBLISHED) {
      const dir = path.join(app, 'node_modules', '@secure-registry', name);
      assert.ok((await lstat(dir)).isDirectory(), `${name} is a real directory, not a link`);
      const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { name: string };
      assert.equal(manifest.name, `@secure-registry/${name}`);
      await assert.rejects(stat(path.join(dir, 'src')), `${name} ships no sources`);
      // Anywhere in dist: no compiled test and no test support (rules/test-support, sandbox/test-support, …).
      const shipped = await readdir(path.join(dir, 'dist'), { recursive: true });
      const tests = shipped.filter((file) => /(^|\/)test-support(\/|$)|\.test\./.test(file));
      assert.deepEqual(tests, [], `${name} ships no tests or test support`);
    }
    for (const name of ['secure-registry', 'secure-registry-server']) {
      assert.ok(((await stat(bin(name))).mode & 0o111) !== 0, `${name} is executable`);
    }
  });

  test('secure-registry --help and secure-registry-server --help', async () => {
    const cli = await runCommand(process.execPath, [bin('secure-registry'), '--help'], {
      cwd: app,
      env: env(),
      timeoutMs: 60_000,
    });
    assert.equal(cli.code, 0, describeResult(cli));
    assert.match(cli.stdout, /Usage: secure-registry/);
    const server = await runCommand(process.execPath, [bin('secure-registry-server'), '--help'], {
      cwd: app,
      env: env(),
      timeoutMs: 60_000,
    });
    assert.equal(server.code, 0, describeResult(server));
    assert.match(`${server.stdout}${server.stderr}`, /secure-registry-server/);
  });

  test('a local scan of a tiny project against a loopback upstream', async () => {
    const project = path.join(tmp, 'project');
    await mkdir(project);
    await writeFile(
      path.join(project, 'package.json'),
      '{ "name": "tiny", "version": "1.0.0", "dependencies": { "pk-dep": "1.0.0" } }\n',
    );
    const result = await runCommand(
      process.execPath,
      [bin('secure-registry'), 'scan', project, '--json', '--upstream', registry.url],
      {
        cwd: app,
        env: cleanEnv({
          CI: '1',
          NO_COLOR: '1',
          SR_SANDBOX: 'off',
          SECURE_REGISTRY_DATA_DIR: path.join(tmp, 'data'),
          SECURE_REGISTRY_CONFIG_DIR: path.join(tmp, 'config'),
        }),
        timeoutMs: 180_000,
      },
    );
    assert.equal(result.code, 0, describeResult(result));
    const json = JSON.parse(result.stdout) as {
      packages: { name: string; version: string; verdict: string }[];
    };
    assert.deepEqual(
      json.packages.map((p) => `${p.name}@${p.version} ${p.verdict}`),
      ['pk-dep@1.0.0 approved'],
    );
  });

  const old = olderNode();
  test(
    `an unsupported Node gets one line naming the required version and exit 3 (${old ?? 'no older Node on this machine'})`,
    { skip: old === undefined },
    async () => {
      for (const [name, entry] of [
        ['secure-registry', bin('secure-registry')],
        ['secure-registry-server', bin('secure-registry-server')],
      ] as const) {
        const result = await runCommand(old!, [entry, '--help'], { cwd: app, env: env(), timeoutMs: 60_000 });
        assert.equal(result.code, 3, describeResult(result));
        assert.equal(result.stdout, '');
        const lines = result.stderr.trim().split('\n');
        assert.equal(lines.length, 1, result.stderr);
        assert.match(
          lines[0]!,
          new RegExp(`^${name}: needs Node\\.js 22\\.12\\.0 or later with node:sqlite`),
        );
      }
    },
  );

  test('a clone before its build: the bin says so and exits 3 instead of a stack trace', async () => {
    const clone = path.join(tmp, 'unbuilt', 'packages', 'cli', 'bin');
    await mkdir(clone, { recursive: true });
    await copyFile(
      path.join(REPO_ROOT, 'packages', 'cli', 'bin', 'secure-registry.js'),
      path.join(clone, 'secure-registry.js'),
    );
    // The shim resolves @secure-registry/shared from the installed app, as a clone resolves its workspace.
    await mkdir(path.join(tmp, 'unbuilt', 'node_modules', '@secure-registry'), { recursive: true });
    await writeFile(path.join(tmp, 'unbuilt', 'packages', 'cli', 'package.json'), '{ "type": "module" }\n');
    await runCommand(
      'ln',
      [
        '-s',
        path.join(app, 'node_modules', '@secure-registry', 'shared'),
        path.join(tmp, 'unbuilt', 'node_modules', '@secure-registry', 'shared'),
      ],
      { cwd: tmp },
    );
    const result = await runCommand(process.execPath, [path.join(clone, 'secure-registry.js'), '--help'], {
      cwd: tmp,
      env: env(),
      timeoutMs: 60_000,
    });
    assert.equal(result.code, 3, describeResult(result));
    assert.match(result.stderr, /^secure-registry: not built yet .*npm run build/);
  });
});
