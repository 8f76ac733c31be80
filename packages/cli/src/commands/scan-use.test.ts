import { strict as assert } from 'node:assert';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { USE_HINT } from './scan-use.js';
import { describe as describeResult, runCli, startReviewServer } from './test-support/review-server.js';
import type { ReviewServer } from './test-support/review-server.js';

/** A project whose lockfile holds one package at the version and integrity the server knows. */
async function writeProject(dir: string, dep: { name: string; version: string; integrity: string }) {
  await mkdir(dir, { recursive: true });
  const root = { name: 'p', version: '1.0.0', dependencies: { [dep.name]: dep.version } };
  const lock = {
    name: 'p',
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': root,
      [`node_modules/${dep.name}`]: {
        version: dep.version,
        resolved: `https://registry.npmjs.org/${dep.name}/-/${dep.name.split('/').pop()}-${dep.version}.tgz`,
        integrity: dep.integrity,
      },
    },
  };
  await writeFile(join(dir, 'package.json'), JSON.stringify(root));
  await writeFile(join(dir, 'package-lock.json'), JSON.stringify(lock));
  return dir;
}

describe('scan --use and the use hint (hosted server, built CLI)', () => {
  let world: ReviewServer;
  let clean: string;
  let held: string;
  let n = 0;

  before(async () => {
    world = await startReviewServer();
    clean = await writeProject(join(world.home, 'clean'), {
      name: 'fine-c',
      version: '3.0.0',
      integrity: 'sha512-FINEC',
    });
    held = await writeProject(join(world.home, 'held'), {
      name: 'held-a',
      version: '1.0.1',
      integrity: 'sha512-HELDA',
    });
  });
  after(async () => world?.dispose());

  /** The server's env with an isolated, empty npm user config. */
  async function envWithNpmrc(overrides: Record<string, string | undefined> = {}) {
    const userconfig = join(world.home, `npmrc-${++n}`);
    await writeFile(userconfig, '');
    const env: Record<string, string> = { ...world.env(world.tokens.ci), NPM_CONFIG_USERCONFIG: userconfig };
    for (const [key, value] of Object.entries(overrides)) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
    return { env, userconfig };
  }

  const registry = () => `${world.server.url}/`;
  const host = () => new URL(world.server.url).host;

  test('a clean scan with --use points npm at the vetted registry with the token', async () => {
    const { env, userconfig } = await envWithNpmrc();
    const result = await runCli(['scan', clean, '--use'], env);
    assert.equal(result.code, 0, describeResult(result));
    const npmrc = await readFile(userconfig, 'utf8');
    assert.match(npmrc, new RegExp(`^registry=${registry().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    assert.ok(npmrc.includes(`//${host()}/:_authToken=${world.tokens.ci}`), npmrc);
    assert.match(result.stdout, /npm now installs only vetted versions from/);
    assert.ok(!result.stdout.includes(world.tokens.ci), 'the token is not printed');
    assert.ok(!result.stdout.includes(USE_HINT), 'no hint once done');
  });

  test('with --json, stdout stays one JSON document; what use changed goes to stderr', async () => {
    const { env, userconfig } = await envWithNpmrc();
    const result = await runCli(['scan', clean, '--use', '--json'], env);
    assert.equal(result.code, 0, describeResult(result));
    const report = JSON.parse(result.stdout) as { exitCode: number };
    assert.equal(report.exitCode, 0);
    assert.match(result.stderr, /npm now installs only vetted versions from/);
    assert.match(await readFile(userconfig, 'utf8'), /^registry=/m);
  });

  test('a scan that does not pass leaves npm alone, --use or not', async () => {
    const { env, userconfig } = await envWithNpmrc();
    const result = await runCli(['scan', held, '--use'], env);
    assert.equal(result.code, 2, describeResult(result));
    assert.equal(await readFile(userconfig, 'utf8'), '');
    assert.ok(!result.stdout.includes(USE_HINT));
  });

  test('a clean plain scan prints the hint and changes nothing; no hint when npm already uses it', async () => {
    const { env, userconfig } = await envWithNpmrc();
    const result = await runCli(['scan', clean], env);
    assert.equal(result.code, 0, describeResult(result));
    assert.ok(result.stdout.trimEnd().endsWith(USE_HINT), describeResult(result));
    assert.equal(await readFile(userconfig, 'utf8'), '');

    await writeFile(userconfig, `registry=${registry()}\n`);
    const again = await runCli(['scan', clean], env);
    assert.equal(again.code, 0, describeResult(again));
    assert.ok(!again.stdout.includes(USE_HINT), describeResult(again));
  });

  test('use works from inside a workspace member directory (npm config without ENOWORKSPACES)', async () => {
    const mono = join(world.home, 'mono');
    await mkdir(join(mono, 'member'), { recursive: true });
    await writeFile(join(mono, 'package.json'), '{"name":"mono","private":true,"workspaces":["member"]}');
    await writeFile(join(mono, 'member', 'package.json'), '{"name":"member","version":"1.0.0"}');
    const { env, userconfig } = await envWithNpmrc();
    const result = await runCli(['use'], env, 60_000, join(mono, 'member'));
    assert.equal(result.code, 0, describeResult(result));
    assert.match(await readFile(userconfig, 'utf8'), /^registry=/m);
    const undo = await runCli(['use', '--undo'], env, 60_000, join(mono, 'member'));
    assert.equal(undo.code, 0, describeResult(undo));
    // npm deletes a user config file that the undo leaves empty.
    const after = await readFile(userconfig, 'utf8').catch(() => '');
    assert.doesNotMatch(after, /^registry=/m);
  });

  test('--use in local mode is the usage error `use` gives (exit 3), before any scan', async () => {
    const { env, userconfig } = await envWithNpmrc({ SECURE_REGISTRY_SERVER: undefined });
    const [scan, use] = await Promise.all([runCli(['scan', clean, '--use'], env), runCli(['use'], env)]);
    assert.equal(scan.code, 3, describeResult(scan));
    assert.equal(use.code, 3, describeResult(use));
    assert.match(scan.stderr, /no secure-registry server is configured/);
    assert.equal(scan.stderr, use.stderr);
    assert.equal(scan.stdout, '', 'nothing was scanned');
    assert.equal(await readFile(userconfig, 'utf8'), '');
  });
});
