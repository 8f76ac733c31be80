import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { parseRegistryPath, parseTarballVersion, tarballUrl } from './registry-path.js';
import { refusalReason, noServedVersionsMessage, NOT_VETTED } from './reasons.js';
import { readTarballManifest } from './tarball-manifest.js';
import { artifact, makePackageTarball, makeTarball } from './test-support/fixtures.js';

describe('parseRegistryPath', () => {
  test('plain, encoded-scope (both cases) and slash-scope packuments', () => {
    assert.deepEqual(parseRegistryPath('/left-pad'), { kind: 'packument', name: 'left-pad' });
    assert.deepEqual(parseRegistryPath('/@scope%2fname'), { kind: 'packument', name: '@scope/name' });
    assert.deepEqual(parseRegistryPath('/@scope%2Fname?write=true'), {
      kind: 'packument',
      name: '@scope/name',
    });
    assert.deepEqual(parseRegistryPath('/@scope/name'), { kind: 'packument', name: '@scope/name' });
    assert.deepEqual(parseRegistryPath('/%40scope%2fname'), { kind: 'packument', name: '@scope/name' });
  });

  test('tarballs in every scoped form, and versions', () => {
    assert.deepEqual(parseRegistryPath('/a/-/a-1.0.0.tgz'), {
      kind: 'tarball',
      name: 'a',
      file: 'a-1.0.0.tgz',
    });
    const scoped = { kind: 'tarball', name: '@s/n', file: 'n-1.0.0.tgz' };
    assert.deepEqual(parseRegistryPath('/@s/n/-/n-1.0.0.tgz'), scoped);
    assert.deepEqual(parseRegistryPath('/@s%2fn/-/n-1.0.0.tgz'), scoped);
    assert.deepEqual(parseRegistryPath('/@s%2Fn/-/n-1.0.0.tgz'), scoped);
    assert.deepEqual(parseRegistryPath('/@s/n/-/@s/n-1.0.0.tgz'), scoped);
    assert.deepEqual(parseRegistryPath('/a/latest'), { kind: 'version', name: 'a', spec: 'latest' });
    assert.deepEqual(parseRegistryPath('/@s%2fn/1.0.0'), { kind: 'version', name: '@s/n', spec: '1.0.0' });
  });

  test('rejects invalid names, traversal and malformed encodings without throwing', () => {
    for (const url of [
      '/__proto__',
      '/..',
      '/%2e%2e/x',
      '/a%ZZ',
      '/@s',
      '/@/x',
      '/a/b/c',
      '/.hidden',
      '/a/-/x/y/a-1.tgz',
      '',
    ]) {
      assert.equal(parseRegistryPath(url).kind, 'invalid', url);
    }
  });
});

describe('parseTarballVersion', () => {
  test('names with dashes and prerelease versions', () => {
    assert.equal(parseTarballVersion('left-pad', 'left-pad-1.3.0.tgz'), '1.3.0');
    assert.equal(parseTarballVersion('a-b', 'a-b-1.0.0-beta-2.tgz'), '1.0.0-beta-2');
    assert.equal(parseTarballVersion('@scope/x-y', 'x-y-2.0.0-rc.1.tgz'), '2.0.0-rc.1');
  });

  test('a file of another package or a bad version is refused', () => {
    assert.equal(parseTarballVersion('left-pad', 'left-1.3.0.tgz'), undefined);
    assert.equal(parseTarballVersion('a', 'a-b-1.0.0.tgz'), undefined);
    assert.equal(parseTarballVersion('a', 'a-1.0.0.tar'), undefined);
    assert.equal(parseTarballVersion('a', 'a-v1.0.0.tgz'), undefined);
    assert.equal(parseTarballVersion('a', 'a-1.0.0+build.tgz'), undefined);
  });

  test('tarballUrl', () => {
    assert.equal(tarballUrl('http://h:1/', '@s/n', '1.0.0'), 'http://h:1/@s/n/-/n-1.0.0.tgz');
    assert.equal(tarballUrl('http://h:1', 'n', '1.0.0'), 'http://h:1/n/-/n-1.0.0.tgz');
  });
});

describe('refusal reasons', () => {
  test('rejected, held, pending and never vetted', () => {
    const rejected = artifact('x', '1.0.0', { verdict: 'rejected', reason: 'honeytoken sent to exfil.test' });
    const review = artifact('x', '1.0.0', {
      verdict: 'review',
      reason: 'network during install',
      integrity: 'sha512-QQ==',
    });
    assert.equal(refusalReason([review, rejected]), 'rejected: honeytoken sent to exfil.test');
    assert.equal(refusalReason([review]), 'held for review: network during install');
    assert.equal(
      refusalReason([artifact('x', '1.0.0', { verdict: 'pending' })]),
      'not yet vetted: analysis of x@1.0.0 is in progress',
    );
    assert.equal(refusalReason(undefined), NOT_VETTED);
    assert.match(
      refusalReason([], { queued: true }),
      /^not yet vetted: run secure-registry scan \(analysis queued/,
    );
    assert.equal(
      refusalReason([artifact('x', '1.0.0', { verdict: 'rejected', reason: 'a\n  b' })]),
      'rejected: a b',
    );
  });

  test('the 404 message summarises verdicts', () => {
    const message = noServedVersionsMessage({
      name: 'x',
      upstreamVersions: ['1.0.0', '1.0.1', '1.0.2'],
      records: [artifact('x', '1.0.1', { verdict: 'rejected', reason: 'reverse shell' })],
    });
    assert.equal(
      message,
      `no approved version of x: 1 rejected, 2 ${NOT_VETTED} (1.0.1: rejected: reverse shell)`,
    );
  });
});

describe('readTarballManifest', () => {
  test('reads package/package.json, also through pax path headers', async () => {
    const tgz = makePackageTarball('@s/p', '1.2.3', { dependencies: { a: '1' } });
    assert.deepEqual(await readTarballManifest(tgz), {
      name: '@s/p',
      version: '1.2.3',
      dependencies: { a: '1' },
    });
    const pax = makeTarball(
      { 'lib/x.js': '1', 'package.json': '{"name":"q","version":"1.0.0"}' },
      { paxPaths: true },
    );
    assert.deepEqual(await readTarballManifest(pax), { name: 'q', version: '1.0.0' });
  });

  test('the package.json npm installs: a later `x\\y/package.json` replaces the first', async () => {
    const tgz = makeTarball({ 'package.json': '{"name":"benign"}' });
    const { gunzipSync, gzipSync } = await import('node:zlib');
    const tar = gunzipSync(tgz);
    const { Header } = await import('tar');
    const body = Buffer.from('{"name":"real"}');
    const header = Buffer.alloc(512);
    new Header({ path: 'lib\\x/package.json', type: 'File', size: body.length, mode: 0o644 }).encode(
      header,
      0,
    );
    const entry = Buffer.concat([header, body, Buffer.alloc(512 - body.length)]);
    const end = tar.length - 1024;
    const crafted = gzipSync(Buffer.concat([tar.subarray(0, end), entry, Buffer.alloc(1024)]));
    assert.deepEqual(await readTarballManifest(crafted), { name: 'real' });
  });

  test('nested package.json, garbage and non-objects give undefined', async () => {
    assert.equal(await readTarballManifest(makeTarball({ 'sub/package.json': '{"name":"n"}' })), undefined);
    assert.equal(await readTarballManifest(makeTarball({ 'package.json': '[1]' })), undefined);
    assert.equal(await readTarballManifest(makeTarball({ 'package.json': '{oops' })), undefined);
    assert.equal(await readTarballManifest(Buffer.from('not gzip')), undefined);
  });
});
