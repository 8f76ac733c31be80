/**
 * pnpm and Yarn lockfiles against what the real tools install: pnpm (the `pnpm` devDependency,
 * lockfile v9) and Yarn Berry (`@yarnpkg/cli-dist`, node-modules linker) install a small project
 * from a loopback fixture registry; the graph the CLI reads from the lockfile they wrote must name
 * exactly the packages they put on disk, with the registry's integrity. Then `scan` of a
 * package.json without any lockfile resolves it as npm would and scans the result.
 */
import { strict as assert } from 'node:assert';
import { lstat, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadLockfile } from '@secure-registry/cli';
import type { DependencyGraph } from '@secure-registry/shared';
import { describeResult, makeCliHome, runCli } from './support/cli.js';
import { startFixtureRegistry } from './support/fixture-registry.js';
import type { FixturePackage, FixtureRegistry } from './support/fixture-registry.js';
import { cleanEnv } from './support/npm-env.js';
import { runCommand } from './support/project.js';
import { PNPM, YARN, yarnrc } from './support/clients.js';

function pkg(name: string, version: string, extra: Record<string, unknown> = {}): FixturePackage {
  return {
    manifest: { name, version, main: 'index.js', license: 'MIT', ...extra },
    files: { 'index.js': `module.exports = ${JSON.stringify(`${name}@${version}`)};\n` },
  };
}

const PACKAGES = [
  pkg('lc-a', '1.0.0', { dependencies: { 'lc-b': '^2.0.0', '@lc/scoped': '1.0.0' } }),
  pkg('lc-b', '1.0.0'),
  pkg('lc-b', '2.0.0'),
  pkg('@lc/scoped', '1.0.0', { dependencies: { 'lc-b': '1.0.0' } }),
  pkg('lc-dev', '1.0.0', { dependencies: { 'lc-b': '^2.0.0' } }),
  pkg('lc-opt', '1.0.0'),
];
const MANIFEST = {
  name: 'lc-app',
  version: '1.0.0',
  private: true,
  dependencies: { 'lc-a': '^1.0.0', 'lc-alias': 'npm:lc-b@1.0.0' },
  devDependencies: { 'lc-dev': '1.0.0' },
  optionalDependencies: { 'lc-opt': '1.0.0' },
};

/** `name@version integrity` of every package directory under node_modules (any layout). */
async function installedPackages(registry: FixtureRegistry, dir: string): Promise<string[]> {
  const found = new Set<string>();
  const walk = async (modules: string): Promise<void> => {
    for (const entry of await readdir(modules).catch(() => [] as string[])) {
      if (entry.startsWith('.') && entry !== '.pnpm') continue;
      const full = path.join(modules, entry);
      if (entry === '.pnpm') {
        for (const store of await readdir(full))
          if (store !== 'node_modules') await walk(path.join(full, store, 'node_modules'));
        continue;
      }
      if (entry.startsWith('@')) {
        await walk(full);
        continue;
      }
      if ((await lstat(full)).isSymbolicLink()) continue;
      const manifest = JSON.parse(await readFile(path.join(full, 'package.json'), 'utf8')) as {
        name: string;
        version: string;
      };
      const served = registry.find(manifest.name, manifest.version);
      assert.ok(served, `${manifest.name}@${manifest.version} installed but not served`);
      found.add(`${manifest.name}@${manifest.version} ${served.integrity}`);
      await walk(path.join(full, 'node_modules'));
    }
  };
  await walk(path.join(dir, 'node_modules'));
  return [...found].sort();
}

/** The same for the graph read from the lockfile (integrity from the registry when the lockfile has none). */
function graphPackages(
  registry: FixtureRegistry,
  graph: DependencyGraph,
  lockfileIntegrity: boolean,
): string[] {
  return [
    ...new Set(
      graph.nodes.map((node) => {
        assert.equal(node.source, 'registry', node.key);
        const served = registry.find(node.name, node.version);
        assert.ok(served, `${node.key} not served`);
        if (lockfileIntegrity) assert.equal(node.integrity, served.integrity, node.key);
        return `${node.name}@${node.version} ${served.integrity}`;
      }),
    ),
  ].sort();
}

describe('pnpm and yarn lockfiles read as the tools install them', () => {
  let registry: FixtureRegistry;
  let tmp: string;

  before(async () => {
    registry = await startFixtureRegistry({ packages: PACKAGES });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'sr-lockfile-clients-'));
  });
  after(async () => {
    await registry?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  async function project(name: string): Promise<string> {
    const dir = path.join(tmp, name);
    await mkdir(dir);
    await writeFile(path.join(dir, 'package.json'), `${JSON.stringify(MANIFEST, null, 2)}\n`);
    return dir;
  }

  function flagsOf(graph: DependencyGraph): Record<string, string> {
    const out: Record<string, string> = {};
    for (const node of graph.nodes)
      out[`${node.name}@${node.version}`] = `${node.dev ? 'dev' : ''}${node.optional ? 'optional' : ''}`;
    return out;
  }
  const EXPECTED_FLAGS = {
    'lc-a@1.0.0': '',
    'lc-b@1.0.0': '',
    'lc-b@2.0.0': '',
    '@lc/scoped@1.0.0': '',
    'lc-dev@1.0.0': 'dev',
    'lc-opt@1.0.0': 'optional',
  };

  test('pnpm install: pnpm-lock.yaml (v9) names what pnpm installed, with its integrity', async () => {
    const dir = await project('pnpm');
    const home = path.join(tmp, 'pnpm-home');
    const result = await runCommand(
      process.execPath,
      [
        PNPM,
        'install',
        '--registry',
        `${registry.url}/`,
        '--store-dir',
        path.join(tmp, 'pnpm-store'),
        '--config.fetch-retries=0',
        '--reporter=append-only',
      ],
      {
        cwd: dir,
        env: cleanEnv({
          HOME: home,
          XDG_CONFIG_HOME: path.join(home, '.config'),
          npm_config_userconfig: undefined,
        }),
        timeoutMs: 120_000,
      },
    );
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const loaded = await loadLockfile(dir);
    assert.equal(loaded.fileName, 'pnpm-lock.yaml');
    assert.equal(loaded.lockfileVersion, 9);
    assert.deepEqual(graphPackages(registry, loaded.graph, true), await installedPackages(registry, dir));
    assert.deepEqual(flagsOf(loaded.graph), EXPECTED_FLAGS);
  });

  test('yarn install (berry): yarn.lock names what yarn installed', async () => {
    const dir = await project('berry');
    await writeFile(path.join(dir, 'yarn.lock'), '');
    await writeFile(path.join(dir, '.yarnrc.yml'), yarnrc(registry.url));
    const home = await mkdtemp(path.join(tmp, 'yarn-home-'));
    const result = await runCommand(process.execPath, [YARN, 'install'], {
      cwd: dir,
      env: cleanEnv({ HOME: home, YARN_IGNORE_PATH: '1', YARN_ENABLE_PROGRESS_BARS: '0', FORCE_COLOR: '0' }),
      timeoutMs: 120_000,
    });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const loaded = await loadLockfile(dir);
    assert.equal(loaded.reader, 'yarn-berry');
    assert.deepEqual(graphPackages(registry, loaded.graph, false), await installedPackages(registry, dir));
    assert.deepEqual(flagsOf(loaded.graph), EXPECTED_FLAGS);
  });

  test('scan of a package.json without a lockfile: resolved as npm would, said so, scanned', async () => {
    const dir = await project('bare');
    const home = await makeCliHome(tmp);
    const result = await runCli(['scan', dir, '--json', '--upstream', registry.url], { home });
    assert.match(result.stderr, /no lockfile: resolved package\.json as npm would/, describeResult(result));
    const json = JSON.parse(result.stdout) as { packages: { name: string; version: string }[] };
    assert.deepEqual(
      // npm's graph is keyed by location: lc-b@1.0.0 is there twice (the alias and a nested copy).
      [...new Set(json.packages.map((p) => `${p.name}@${p.version}`))].sort(),
      Object.keys(EXPECTED_FLAGS).sort(),
    );
    // Nothing was written into the project.
    assert.deepEqual(await readdir(dir), ['package.json']);
  });
});
