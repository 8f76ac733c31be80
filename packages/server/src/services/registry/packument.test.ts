import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { recomputeDistTags } from './dist-tags.js';
import { abbreviateVersion, hasInstallScript, shapePackument } from './packument.js';
import { selectOfflineArtifacts, selectServedVersions, upstreamIntegrityOf } from './served-versions.js';
import { offlineServedVersion } from './offline.js';
import { artifact } from './test-support/fixtures.js';

const BASE = 'http://127.0.0.1:4873';

function integrityOf(name: string, version: string): string {
  return `sha512-${Buffer.from(`${name}@${version}`).toString('base64')}`;
}

function upstreamPackument(name: string, versions: string[], extra: Record<string, unknown> = {}) {
  const out: Record<string, unknown> = {
    _id: name,
    _rev: '12-abc',
    name,
    description: 'a package',
    'dist-tags': { latest: versions[versions.length - 1] },
    versions: Object.fromEntries(
      versions.map((version) => [
        version,
        {
          name,
          version,
          dependencies: { dep: '^1.0.0' },
          scripts: { test: 'node test.js' },
          readme: 'long text',
          dist: {
            integrity: integrityOf(name, version),
            shasum: 'a'.repeat(40),
            tarball: `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${version}.tgz`,
          },
        },
      ]),
    ),
    time: {
      created: '2020-01-01T00:00:00.000Z',
      modified: '2024-06-01T00:00:00.000Z',
      ...Object.fromEntries(
        versions.map((version, index) => [version, `2021-01-0${index + 1}T00:00:00.000Z`]),
      ),
    },
    _attachments: {},
    ...extra,
  };
  return out;
}

describe('recomputeDistTags', () => {
  test('latest is the highest served version not newer than upstream latest', () => {
    const tags = recomputeDistTags({ latest: '2.0.0' }, ['1.0.0', '1.5.0', '3.0.0']);
    assert.equal(tags.latest, '1.5.0');
  });

  test('latest is never a prerelease when upstream latest is a release', () => {
    const tags = recomputeDistTags({ latest: '2.0.0', next: '2.0.0-beta.2' }, ['1.0.0', '2.0.0-beta.2']);
    assert.equal(tags.latest, '1.0.0');
    assert.equal(tags.next, '2.0.0-beta.2', 'an approved prerelease tag is kept');
  });

  test('a prerelease upstream latest allows prerelease candidates', () => {
    const tags = recomputeDistTags({ latest: '1.0.0-rc.3' }, ['1.0.0-rc.1', '1.0.0-rc.2', '1.0.0-rc.4']);
    assert.equal(tags.latest, '1.0.0-rc.2');
  });

  test('tags pointing at unserved versions are dropped; latest dropped with no candidate', () => {
    const tags = recomputeDistTags({ latest: '1.0.0', beta: '2.0.0-beta.1', legacy: '0.9.0' }, [
      '0.9.0',
      '2.0.0',
    ]);
    assert.deepEqual({ ...tags }, { latest: '0.9.0', legacy: '0.9.0' });
    const none = recomputeDistTags({ latest: '1.0.0', beta: '2.0.0-beta.1' }, ['2.0.0-beta.0']);
    assert.equal(Object.hasOwn(none, 'latest'), false);
    assert.equal(Object.hasOwn(none, 'beta'), false);
  });

  test('without a usable upstream latest, the highest served release wins', () => {
    assert.equal(recomputeDistTags({}, ['1.0.0', '1.1.0', '2.0.0-alpha.1']).latest, '1.1.0');
    assert.equal(recomputeDistTags({ latest: 'not-semver' }, ['2.0.0-alpha.1']).latest, '2.0.0-alpha.1');
    assert.equal(recomputeDistTags(undefined, []).latest, undefined);
  });

  test('a tag named __proto__ is plain data and does not touch prototypes', () => {
    const upstream = JSON.parse('{"latest":"1.0.0","__proto__":"1.0.0","constructor":"9.9.9"}') as unknown;
    const tags = recomputeDistTags(upstream, ['1.0.0']);
    assert.equal(Object.hasOwn(tags, '__proto__'), true);
    assert.equal(Object.hasOwn(tags, 'constructor'), false);
    assert.equal(JSON.parse(JSON.stringify(tags)).__proto__, '1.0.0');
    assert.equal(({} as Record<string, unknown>).latest, undefined);
  });
});

describe('selectServedVersions', () => {
  test('serves only approved artifacts whose integrity equals upstream dist.integrity', () => {
    const name = 'left-pad';
    const upstream = upstreamPackument(name, ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0']);
    const records = [
      artifact(name, '1.0.0'),
      artifact(name, '1.1.0', { verdict: 'rejected', reason: 'bad' }),
      artifact(name, '1.2.0', { integrity: 'sha512-b3RoZXI=' }), // approved other bytes
      artifact(name, '1.3.0', { storagePath: undefined }), // approved, never stored
      artifact(name, '1.4.0', { verdict: 'review' }),
    ];
    const served = selectServedVersions({ upstream, records });
    assert.deepEqual(
      served.map((s) => s.version),
      ['1.0.0'],
    );
    assert.equal(served[0]?.time, '2021-01-01T00:00:00.000Z');
  });

  test('ignores __proto__ and non-normalised version keys and mismatched manifests', () => {
    const upstream = JSON.parse(
      JSON.stringify({
        name: 'x',
        versions: {
          ['__proto__']: { name: 'x', version: '__proto__' },
          'v1.0.0': { name: 'x', version: 'v1.0.0', dist: { integrity: integrityOf('x', 'v1.0.0') } },
          '1.0.0': { name: 'x', version: '2.0.0', dist: { integrity: integrityOf('x', '1.0.0') } },
        },
      }),
    ) as Record<string, unknown>;
    const records = [artifact('x', '__proto__'), artifact('x', 'v1.0.0'), artifact('x', '1.0.0')];
    assert.deepEqual(selectServedVersions({ upstream, records }), []);
  });

  test('a sha1-only upstream version matches an artifact with that sha1', () => {
    const hex = 'ab'.repeat(20);
    const sri = upstreamIntegrityOf({ dist: { shasum: hex } });
    assert.equal(sri, `sha1-${Buffer.from(hex, 'hex').toString('base64')}`);
    const upstream = {
      name: 'old',
      versions: { '0.1.0': { name: 'old', version: '0.1.0', dist: { shasum: hex } } },
    };
    const served = selectServedVersions({
      upstream,
      records: [artifact('old', '0.1.0', { integrity: sri })],
    });
    assert.equal(served.length, 1);
  });
});

describe('shapePackument', () => {
  const name = '@scope/my-pkg';
  const upstream = upstreamPackument(name, ['1.0.0', '1.1.0-beta.1', '1.1.0', '2.0.0'], {
    'dist-tags': { latest: '2.0.0', beta: '1.1.0-beta.1', next: '3.0.0' },
  });
  const records = ['1.0.0', '1.1.0-beta.1', '1.1.0'].map((version) => artifact(name, version));
  records.push(artifact(name, '2.0.0', { verdict: 'rejected', reason: 'honeytoken sent to evil.test' }));
  const served = selectServedVersions({ upstream, records });

  test('full form: only served versions, tags recomputed, time kept, tarballs rewritten', () => {
    const doc = shapePackument({ name, upstream, served, baseUrl: `${BASE}/`, abbreviated: false });
    assert.deepEqual(Object.keys(doc.versions as object).sort(), ['1.0.0', '1.1.0', '1.1.0-beta.1']);
    assert.deepEqual({ ...(doc['dist-tags'] as object) }, { latest: '1.1.0', beta: '1.1.0-beta.1' });
    assert.deepEqual(
      { ...(doc.time as object) },
      {
        created: '2020-01-01T00:00:00.000Z',
        modified: '2024-06-01T00:00:00.000Z',
        '1.0.0': '2021-01-01T00:00:00.000Z',
        '1.1.0-beta.1': '2021-01-02T00:00:00.000Z',
        '1.1.0': '2021-01-03T00:00:00.000Z',
      },
    );
    const v = (doc.versions as Record<string, Record<string, Record<string, unknown>>>)['1.1.0-beta.1']!;
    assert.equal(v.dist!.tarball, `${BASE}/@scope/my-pkg/-/my-pkg-1.1.0-beta.1.tgz`);
    assert.equal(v.dist!.integrity, integrityOf(name, '1.1.0-beta.1'), 'integrity unchanged');
    assert.equal(doc.description, 'a package');
    assert.equal(doc._id, name);
    assert.equal('_attachments' in doc, false);
    assert.equal('_rev' in doc, false);
    // The upstream object is not modified.
    const upstreamVersions = upstream.versions as Record<string, { dist: { tarball: string } }>;
    assert.match(upstreamVersions['1.0.0']!.dist.tarball, /^https:\/\/registry\.npmjs\.org\//);
  });

  test('abbreviated form keeps only install fields', () => {
    const doc = shapePackument({ name, upstream, served, baseUrl: BASE, abbreviated: true });
    assert.deepEqual(Object.keys(doc), ['name', 'modified', 'dist-tags', 'versions']);
    assert.equal(doc.modified, '2024-06-01T00:00:00.000Z');
    const v = (doc.versions as Record<string, Record<string, unknown>>)['1.0.0']!;
    assert.deepEqual(Object.keys(v).sort(), ['dependencies', 'dist', 'name', 'version']);
    assert.equal((v.dist as Record<string, unknown>).tarball, `${BASE}/@scope/my-pkg/-/my-pkg-1.0.0.tgz`);
  });

  test('abbreviation computes hasInstallScript and keeps install-relevant fields', () => {
    const manifest = {
      name: 'n',
      version: '1.0.0',
      scripts: { postinstall: 'node x.js', test: 't' },
      bin: { n: 'cli.js' },
      engines: { node: '>=18' },
      os: ['linux'],
      cpu: ['x64'],
      peerDependencies: { p: '1' },
      peerDependenciesMeta: { p: { optional: true } },
      optionalDependencies: { o: '1' },
      bundleDependencies: ['b'],
      deprecated: 'use m',
      readme: 'x',
      maintainers: [],
      dist: { integrity: 'sha512-x', tarball: 't' },
    };
    const abbreviated = abbreviateVersion(manifest);
    assert.equal(abbreviated.hasInstallScript, true);
    for (const field of [
      'bin',
      'engines',
      'os',
      'cpu',
      'peerDependenciesMeta',
      'bundleDependencies',
      'deprecated',
    ]) {
      assert.ok(Object.hasOwn(abbreviated, field), field);
    }
    assert.equal('scripts' in abbreviated, false);
    assert.equal('readme' in abbreviated, false);
    assert.equal(hasInstallScript({ gypfile: true }), true);
    assert.equal(hasInstallScript({ scripts: { test: 'x' } }), false);
  });

  test('unscoped tarball URLs use the bare name, and a base path is kept', () => {
    const up = upstreamPackument('a-b-c', ['1.0.0-alpha-1']);
    const s = selectServedVersions({ upstream: up, records: [artifact('a-b-c', '1.0.0-alpha-1')] });
    const doc = shapePackument({
      name: 'a-b-c',
      upstream: up,
      served: s,
      baseUrl: 'https://h.example/npm/',
      abbreviated: true,
    });
    const v = (doc.versions as Record<string, { dist: { tarball: string } }>)['1.0.0-alpha-1']!;
    assert.equal(v.dist.tarball, 'https://h.example/npm/a-b-c/-/a-b-c-1.0.0-alpha-1.tgz');
  });
});

describe('offline serving', () => {
  test('one approved artifact per version; ambiguous versions are left out', () => {
    const records = [
      artifact('p', '1.0.0'),
      artifact('p', '1.1.0', { integrity: 'sha512-QQ==' }),
      artifact('p', '1.1.0', { integrity: 'sha512-Qg==' }),
      artifact('p', '1.2.0', { verdict: 'rejected' }),
      artifact('p', '1.3.0', { storagePath: undefined }),
    ];
    assert.deepEqual(
      selectOfflineArtifacts(records).map((r) => r.version),
      ['1.0.0'],
    );
  });

  test('uses the recorded upstream manifest, else the package.json; refuses a mismatched one', () => {
    const recorded = artifact('p', '1.0.0', {
      reports: {
        upstream: {
          manifest: {
            name: 'p',
            version: '1.0.0',
            dependencies: { q: '1' },
            dist: { shasum: 'ab', integrity: 'x' },
          },
          time: '2021-05-05T00:00:00.000Z',
        },
      },
    });
    const fromRecord = offlineServedVersion({
      artifact: recorded,
      manifest: (recorded.reports.upstream as { manifest: Record<string, unknown> }).manifest,
    });
    assert.equal(fromRecord?.time, '2021-05-05T00:00:00.000Z');
    assert.deepEqual(
      { ...(fromRecord?.manifest.dist as object) },
      { shasum: 'ab', integrity: recorded.integrity },
    );

    const bare = artifact('p', '1.1.0', { createdAt: '2022-02-02T00:00:00.000Z' });
    const fromPackageJson = offlineServedVersion({
      artifact: bare,
      manifest: { name: 'p', version: '1.1.0', _id: 'p@1.1.0', _resolved: 'x', dependencies: {} },
    });
    assert.equal(fromPackageJson?.time, '2022-02-02T00:00:00.000Z');
    assert.equal('_resolved' in (fromPackageJson?.manifest ?? {}), false);
    assert.equal(
      offlineServedVersion({ artifact: bare, manifest: { name: 'other', version: '1.1.0' } }),
      undefined,
    );
    assert.equal(offlineServedVersion({ artifact: bare, manifest: undefined }), undefined);
  });
});
