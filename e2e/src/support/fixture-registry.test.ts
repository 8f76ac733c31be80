import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Parser } from 'tar';
import { startFixtureRegistry } from './fixture-registry.js';
import type { FixtureRegistry } from './fixture-registry.js';
import { FIXTURE_PACKAGES_DIR } from './paths.js';
import { makeProject } from './project.js';

interface Packument {
  name: string;
  'dist-tags': Record<string, string>;
  time: Record<string, string>;
  maintainers: { name: string }[];
  modified?: string;
  versions: Record<
    string,
    {
      name: string;
      version: string;
      _npmUser?: { name: string };
      hasInstallScript?: boolean;
      scripts?: Record<string, string>;
      dist: { tarball: string; integrity: string; shasum: string; attestations?: unknown };
    }
  >;
}

async function getJson(
  url: string,
  accept?: string,
): Promise<{ status: number; type: string; body: Packument }> {
  const res = await fetch(url, accept ? { headers: { accept } } : {});
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: (await res.json()) as Packument,
  };
}

async function tarEntries(buffer: Buffer): Promise<Map<string, { mtime: Date | undefined; body: string }>> {
  const entries = new Map<string, { mtime: Date | undefined; body: string }>();
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser();
    parser.on('entry', (entry) => {
      const chunks: Buffer[] = [];
      entry.on('data', (chunk: Buffer) => chunks.push(chunk));
      entry.on('end', () =>
        entries.set(entry.path, { mtime: entry.mtime, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    parser.on('end', resolve);
    parser.on('error', reject);
    parser.end(buffer);
  });
  return entries;
}

describe('fixture registry', () => {
  let registry: FixtureRegistry;
  before(async () => {
    registry = await startFixtureRegistry();
  });
  after(async () => {
    await registry.close();
  });

  test('serves a full packument with dist-tags, time, maintainers and self-pointing tarballs', async () => {
    const { status, type, body } = await getJson(`${registry.url}/fixture-strpad`);
    assert.equal(status, 200);
    assert.match(type, /^application\/json/);
    assert.deepEqual(Object.keys(body.versions).sort(), ['1.0.0', '1.1.0']);
    assert.equal(body['dist-tags'].latest, '1.1.0');
    assert.ok(body.time.created && body.time.modified && body.time['1.0.0'] && body.time['1.1.0']);
    assert.ok(Date.parse(body.time['1.0.0']!) < Date.parse(body.time['1.1.0']!));
    assert.equal(body.maintainers[0]?.name, 'fixture-maintainer');
    const v = body.versions['1.1.0']!;
    assert.equal(v._npmUser?.name, 'fixture-maintainer');
    assert.equal(v.dist.tarball, `${registry.url}/fixture-strpad/-/fixture-strpad-1.1.0.tgz`);
    const tarball = Buffer.from(await (await fetch(v.dist.tarball)).arrayBuffer());
    assert.equal(v.dist.integrity, `sha512-${createHash('sha512').update(tarball).digest('base64')}`);
    assert.equal(v.dist.shasum, createHash('sha1').update(tarball).digest('hex'));
    const entries = await tarEntries(tarball);
    assert.deepEqual([...entries.keys()].sort(), ['package/index.js', 'package/package.json']);
    assert.equal(entries.get('package/index.js')?.mtime?.toISOString(), '1985-10-26T08:15:00.000Z');
  });

  test('serves the abbreviated form for the install Accept header', async () => {
    const { status, type, body } = await getJson(
      `${registry.url}/fixture-colors`,
      'application/vnd.npm.install-v1+json',
    );
    assert.equal(status, 200);
    assert.match(type, /^application\/vnd\.npm\.install-v1\+json/);
    assert.ok(body.modified);
    assert.equal((body as unknown as { time?: unknown }).time, undefined);
    const v = body.versions['2.0.0'] as unknown as Record<string, unknown>;
    assert.deepEqual(v.dependencies, { 'fixture-strpad': '^1.0.0' });
    assert.equal(v.description, undefined);
  });

  test('answers scoped names in every encoding, and 404 for unknown names', async () => {
    for (const p of ['/@fixture%2flogger', '/@fixture%2Flogger', '/@fixture/logger']) {
      const { status, body } = await getJson(`${registry.url}${p}`);
      assert.equal(status, 200, p);
      assert.equal(body.name, '@fixture/logger');
      assert.equal(
        body.versions['1.0.0']?.dist.tarball,
        `${registry.url}/@fixture/logger/-/logger-1.0.0.tgz`,
      );
    }
    const tgz = await fetch(`${registry.url}/@fixture%2flogger/-/logger-1.0.0.tgz`);
    assert.equal(tgz.status, 200);
    assert.equal((await fetch(`${registry.url}/no-such-package`)).status, 404);
    assert.equal((await fetch(`${registry.url}/fixture-strpad/-/fixture-strpad-9.9.9.tgz`)).status, 404);
  });

  test('publishes npm-normalised manifests: implicit node-gyp install, new install scripts, metadata', async () => {
    const native = (await getJson(`${registry.url}/fixture-native`)).body.versions['1.0.0']!;
    assert.equal(native.scripts?.install, 'node-gyp rebuild');
    assert.equal(native.hasInstallScript, true);
    const dropper = (await getJson(`${registry.url}/fixture-dropper`)).body;
    assert.equal(dropper.versions['2.3.0']?.hasInstallScript, undefined);
    assert.match(dropper.versions['2.3.1']?.scripts?.postinstall ?? '', /dropper\.invalid/);
    assert.equal(dropper.versions['2.3.1']?._npmUser?.name, 'new-owner-7f3a');
    const termcolor = (await getJson(`${registry.url}/fixture-termcolor`)).body;
    assert.ok(termcolor.versions['1.0.0']?.dist.attestations);
    assert.equal(termcolor.versions['1.0.1']?.dist.attestations, undefined);
    const fresh = (await getJson(`${registry.url}/fixture-fresh`)).body;
    assert.ok(Date.now() - Date.parse(fresh.time['1.0.0']!) < 3 * 3_600_000);
  });

  test('packs deterministically: integrity is the same on every start', async () => {
    const again = await startFixtureRegistry({
      packages: { dir: path.join(FIXTURE_PACKAGES_DIR, 'signals') },
    });
    try {
      for (const [name, version] of [
        ['fixture-termcolor', '1.0.1'],
        ['fixture-envsteal', '1.0.0'],
      ] as const) {
        assert.ok(registry.find(name, version));
        assert.equal(again.find(name, version)?.integrity, registry.find(name, version)?.integrity);
      }
      assert.equal(again.find('fixture-strpad', '1.0.0'), undefined);
    } finally {
      await again.close();
    }
  });

  test('injects failures: status, corrupt bytes, limited times', async () => {
    const url = `${registry.url}/fixture-strpad/-/fixture-strpad-1.0.0.tgz`;
    registry.setFailure({ match: 'fixture-strpad-1.0.0.tgz', kind: 'status', status: 503, times: 1 });
    assert.equal((await fetch(url)).status, 503);
    assert.equal((await fetch(url)).status, 200);
    registry.setFailure({ match: /\.tgz$/, kind: 'corrupt' });
    const bytes = Buffer.from(await (await fetch(url)).arrayBuffer());
    assert.notEqual(
      `sha512-${createHash('sha512').update(bytes).digest('base64')}`,
      registry.find('fixture-strpad', '1.0.0')?.integrity,
    );
    registry.setFailure(null);
    assert.ok(registry.tarballRequests().length >= 3);
  });

  test('publishes a new version while running: packument, dist-tags and tarball follow', async () => {
    const local = await startFixtureRegistry({
      packages: [
        { manifest: { name: '@fixture/inline', version: '1.0.0' }, files: { 'index.js': 'export {};\n' } },
      ],
    });
    try {
      const published = await local.publish({
        manifest: { name: '@fixture/inline', version: '1.0.1' },
        files: { 'index.js': 'export const x = 1;\n' },
        meta: { publishedHoursAgo: 1 },
      });
      const { body } = await getJson(`${local.url}/@fixture%2finline`);
      assert.deepEqual(Object.keys(body.versions).sort(), ['1.0.0', '1.0.1']);
      assert.equal(body['dist-tags'].latest, '1.0.1');
      const tarball = Buffer.from(await (await fetch(body.versions['1.0.1']!.dist.tarball)).arrayBuffer());
      assert.equal(`sha512-${createHash('sha512').update(tarball).digest('base64')}`, published.integrity);
      const entries = await tarEntries(tarball);
      assert.equal(entries.get('package/index.js')?.body, 'export const x = 1;\n');
    } finally {
      await local.close();
    }
  });

  test('real npm resolves a lockfile from it, with resolved URLs and integrity from the registry', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sr-project-'));
    try {
      const { lockfile } = await makeProject(
        dir,
        { '@fixture/logger': '^1.0.0', 'fixture-native': '1.0.0' },
        registry.url,
      );
      assert.equal(lockfile.lockfileVersion, 3);
      const logger = lockfile.packages['node_modules/@fixture/logger'];
      assert.equal(logger?.resolved, `${registry.url}/@fixture/logger/-/logger-1.0.0.tgz`);
      assert.equal(logger?.integrity, registry.find('@fixture/logger', '1.0.0')?.integrity);
      assert.equal(lockfile.packages['node_modules/fixture-strpad']?.version, '1.1.0');
      assert.equal(lockfile.packages['node_modules/fixture-colors']?.version, '2.0.0');
      assert.equal(lockfile.packages['node_modules/fixture-native']?.hasInstallScript, true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
