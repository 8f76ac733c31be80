/**
 * The real npm client against the vetted registry routes: an approved tree installs (a range
 * resolves to the highest approved version, scoped packages work), a rejected version makes
 * `npm ci` fail with the reason in npm's output, and `npm audit` lists rejected versions.
 *
 * The server runs in-process (`startServer` from the package's public entry: SQLite, the upstream
 * client, the artifact store, all real; no analysis runs) against the fixture upstream; verdicts
 * are recorded in its store directly, with the tarball bytes stored as the pipeline stores them.
 */
import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalArtifactStore, startServer } from '@secure-registry/server';
import type { RunningServer } from '@secure-registry/server';
import { startFixtureRegistry } from './support/fixture-registry.js';
import type { FixturePackage, FixtureRegistry } from './support/fixture-registry.js';
import { cleanEnv } from './support/npm-env.js';
import { makeProject, runCommand } from './support/project.js';

const REJECTION = 'honeytoken sent to exfil.test during postinstall';

function pkg(name: string, version: string, dependencies: Record<string, string> = {}): FixturePackage {
  return {
    manifest: { name, version, main: 'index.js', dependencies },
    files: { 'index.js': `module.exports = ${JSON.stringify(`${name}@${version}`)};\n` },
  };
}

describe('npm installs through the vetted registry', () => {
  let upstream: FixtureRegistry;
  let tmp: string;
  let server: RunningServer;
  let vetted: string;

  async function npm(args: string[], cwd: string) {
    const userconfig = path.join(tmp, 'empty-npmrc');
    await writeFile(userconfig, '');
    const cache = await mkdtemp(path.join(tmp, 'cache-'));
    return runCommand(
      'npm',
      [
        ...args,
        '--cache',
        cache,
        '--userconfig',
        userconfig,
        '--no-fund',
        '--no-update-notifier',
        '--fetch-retries=0',
      ],
      { cwd, env: cleanEnv(), timeoutMs: 120_000 },
    );
  }

  before(async () => {
    upstream = await startFixtureRegistry({
      packages: [
        pkg('e2e-app', '1.0.0', { 'e2e-lib': '^1.0.0' }),
        pkg('e2e-lib', '1.0.0'),
        pkg('e2e-lib', '1.1.0'),
        pkg('@e2e-scope/util', '2.0.0'),
      ],
    });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'sr-e2e-registry-'));
    const dataDir = path.join(tmp, 'data');
    server = await startServer({
      dataDir,
      upstream: upstream.url,
      host: '127.0.0.1',
      port: 0,
      auth: 'none',
      sandbox: false,
      logger: false,
    });
    const artifacts = new LocalArtifactStore(dataDir);
    for (const version of upstream.packages()) {
      const rejected = version.name === 'e2e-lib' && version.version === '1.1.0';
      await server.store.upsertArtifact(
        { name: version.name, version: version.version, integrity: version.integrity },
        {
          verdict: rejected ? 'rejected' : 'approved',
          reason: rejected ? REJECTION : undefined,
          storagePath: await artifacts.put(version.tarball),
        },
      );
    }
    vetted = server.url;
  });

  after(async () => {
    await server?.close();
    await upstream?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test('an approved tree installs; the range resolves to the highest approved version', async () => {
    const dir = path.join(tmp, 'approved');
    await makeProject(dir, {}, vetted); // an empty project, then install through the vetted registry
    const result = await npm(
      ['install', '--registry', vetted, '--no-audit', 'e2e-app@^1.0.0', '@e2e-scope/util@^2.0.0'],
      dir,
    );
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const installed = async (name: string) =>
      (
        JSON.parse(await readFile(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')) as {
          version: string;
        }
      ).version;
    assert.equal(await installed('e2e-app'), '1.0.0');
    assert.equal(await installed('e2e-lib'), '1.0.0', '1.1.0 is rejected: the highest approved is 1.0.0');
    assert.equal(await installed('@e2e-scope/util'), '2.0.0');
    const lock = JSON.parse(await readFile(path.join(dir, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { resolved?: string }>;
    };
    assert.equal(
      lock.packages['node_modules/@e2e-scope/util']?.resolved,
      `${vetted}/@e2e-scope/util/-/util-2.0.0.tgz`,
    );
    assert.equal(lock.packages['node_modules/e2e-lib']?.resolved, `${vetted}/e2e-lib/-/e2e-lib-1.0.0.tgz`);
  });

  test('npm ci of a lockfile pinning a rejected version fails with the reason; npm audit lists it', async () => {
    const dir = path.join(tmp, 'rejected');
    // The lockfile is resolved against the public (upstream) registry, as a project's would be.
    await makeProject(dir, { 'e2e-lib': '1.1.0' }, upstream.url);
    const ci = await npm(['ci', '--registry', vetted, '--replace-registry-host=always', '--no-audit'], dir);
    assert.notEqual(ci.code, 0);
    const output = ci.stderr + ci.stdout;
    assert.match(output, /403 Forbidden/);
    assert.ok(output.includes(`rejected: ${REJECTION}`), output);

    const audit = await npm(['audit', '--package-lock-only', '--registry', vetted], dir);
    assert.equal(audit.code, 1, audit.stderr + audit.stdout);
    assert.ok(audit.stdout.includes(`rejected: ${REJECTION}`), audit.stdout + audit.stderr);
    assert.match(audit.stdout, /e2e-lib/);
  });
});
