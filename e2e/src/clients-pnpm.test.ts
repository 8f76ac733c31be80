/**
 * pnpm (the `pnpm` devDependency of e2e, run with this Node) against a real
 * `secure-registry-server` process whose verdicts come from a real scan.
 *
 * pnpm-lock.yaml records registry packages by name, version and integrity only (no tarball URL
 * while the URL has the standard `<registry>/<name>/-/<file>.tgz` form), so a lockfile resolved at
 * the public registry installs from whatever `--registry` says: the vetted one here.
 */
import { strict as assert } from 'node:assert';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
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
import { PNPM } from './support/clients.js';

/** Without whitespace: pnpm wraps long lines. */
function squash(text: string): string {
  return text.replace(/[\s│]+/g, '');
}

describe('pnpm through the vetted registry (server process, real scan)', () => {
  let world: ClientsWorld;
  let home: string;

  before(async () => {
    world = await startClientsWorld();
    home = path.join(world.tmp, 'pnpm-home');
    await mkdir(home);
  });
  after(async () => world?.close());

  function pnpm(args: string[], cwd: string, registry: string) {
    return runCommand(
      process.execPath,
      [
        PNPM,
        ...args,
        '--registry',
        registry,
        '--store-dir',
        path.join(world.tmp, 'pnpm-store'),
        '--cache-dir',
        path.join(world.tmp, 'pnpm-cache'),
        '--config.fetch-retries=0',
        '--reporter=append-only',
      ],
      {
        cwd,
        // A private HOME: no user-level pnpm/npm config leaks in.
        env: cleanEnv({
          HOME: home,
          XDG_CONFIG_HOME: path.join(home, '.config'),
          npm_config_userconfig: undefined,
        }),
        timeoutMs: 60_000,
      },
    );
  }

  async function project(name: string, deps: Record<string, string> = {}): Promise<string> {
    const dir = path.join(world.tmp, name);
    await mkdir(dir);
    await writeFile(
      path.join(dir, 'package.json'),
      `${JSON.stringify({ name, version: '1.0.0', private: true, dependencies: deps }, null, 2)}\n`,
    );
    return dir;
  }

  test('the scan approved the tree and rejected the hijacked release', () => {
    assertExpectedVerdicts(world);
  });

  test('an approved tree installs; ranges resolve to the highest approved version; scoped works', async () => {
    const dir = await project('pnpm-approved');
    const result = await pnpm(['add', 'cl-app@^1.0.0', 'fixture-termcolor@^1.0.0'], dir, world.vetted);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const store = await readdir(path.join(dir, 'node_modules', '.pnpm'));
    assert.ok(store.includes('cl-lib@1.1.0'), store.join(', '));
    assert.ok(store.includes('@cl-scope+util@2.0.0'), store.join(', '));
    assert.ok(store.includes('fixture-termcolor@1.0.0'), store.join(', '));
    assert.ok(!store.includes('fixture-termcolor@1.0.1'), '1.0.1 is rejected');
    const manifest = JSON.parse(
      await readFile(path.join(dir, 'node_modules', 'fixture-termcolor', 'package.json'), 'utf8'),
    ) as { version: string };
    assert.equal(manifest.version, '1.0.0');
  });

  test('a lockfile resolved at the public registry installs through the vetted one', async () => {
    const dir = await project('pnpm-public-lock', { 'cl-app': '1.0.0' });
    const locked = await pnpm(['install', '--lockfile-only'], dir, `${world.upstream.url}/`);
    assert.equal(locked.code, 0, locked.stderr + locked.stdout);
    const lock = await readFile(path.join(dir, 'pnpm-lock.yaml'), 'utf8');
    assert.match(lock, /cl-lib@1\.1\.0/);
    assert.doesNotMatch(lock, /tarball:/, 'registry packages are recorded without a URL');
    const upstreamTarballs = world.upstream.tarballRequests().length;
    const result = await pnpm(['install', '--frozen-lockfile'], dir, world.vetted);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.ok((await readdir(path.join(dir, 'node_modules', '.pnpm'))).includes('cl-lib@1.1.0'));
    assert.equal(
      world.upstream.tarballRequests().length,
      upstreamTarballs,
      'no tarball came from the upstream',
    );
  });

  test('a lockfile pinning the rejected version fails with 403; pnpm audit shows the reason', async () => {
    const dir = await project('pnpm-rejected', { [REJECTED.name]: REJECTED.version });
    const locked = await pnpm(['install', '--lockfile-only'], dir, `${world.upstream.url}/`);
    assert.equal(locked.code, 0, locked.stderr + locked.stdout);
    const result = await pnpm(['install', '--frozen-lockfile'], dir, world.vetted);
    assert.notEqual(result.code, 0);
    // With a lockfile pnpm asks for no packument and prints only the status and the URL it built
    // (not the reason phrase, not the body); `pnpm audit` carries the reason.
    const output = squash(result.stderr + result.stdout);
    assert.ok(
      output.includes(
        squash(`HTTP 403 for ${world.vetted}${REJECTED.name}/-/${REJECTED.name}-${REJECTED.version}.tgz`),
      ),
      output,
    );
    const audit = await pnpm(['audit'], dir, world.vetted);
    assert.equal(audit.code, 1, audit.stderr + audit.stdout);
    assert.ok(
      squash(audit.stdout).includes(
        squash(`${REJECTED.name}@${REJECTED.version} rejected: ${rejectionReason(world)}`),
      ),
      audit.stdout,
    );
  });

  test("every refusal says why in pnpm's own output", async () => {
    for (const [i, refusal] of refusalCases(world, { pnpm: true }).entries()) {
      const dir = await project(`pnpm-refused-${i}`);
      const result = await pnpm(['add', refusal.spec], dir, world.vetted);
      assert.notEqual(result.code, 0, `${refusal.title}: ${result.stdout}`);
      assertSays(result.stderr + result.stdout, refusal);
    }
  });

  test('a name that does not exist upstream stays a plain 404', async () => {
    const dir = await project('pnpm-no-such-name');
    const result = await pnpm(['add', 'cl-no-such-package'], dir, world.vetted);
    assert.notEqual(result.code, 0);
    const output = result.stderr + result.stdout;
    assert.match(output, /404 Not Found/);
    assert.doesNotMatch(output, /no approved version|refused/);
  });
});
