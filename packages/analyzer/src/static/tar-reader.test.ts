import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { readTarball } from './tar-reader.js';
import { makeRawTarball, makeTarball } from './test-support/make-tarball.js';
import { DEFAULT_LIMITS, type ExtractionLimits } from './types.js';

async function read(tarball: Uint8Array, limits: Partial<ExtractionLimits> = {}) {
  return readTarball(tarball, { limits: { ...DEFAULT_LIMITS, ...limits }, keep: () => true });
}

function kinds(result: Awaited<ReturnType<typeof read>>): string[] {
  return result.extraction.issues.map((i) => i.kind);
}

describe('readTarball', () => {
  test('reads a normal package, stripping the top directory', async () => {
    const tgz = await makeTarball({
      'package.json': '{"name":"a"}',
      'lib/index.js': 'module.exports = 1;\n',
    });
    const result = await read(tgz);
    assert.deepEqual(result.extraction.issues, []);
    assert.equal(result.extraction.complete, true);
    assert.equal(result.extraction.gzip, true);
    assert.deepEqual([...result.allPaths].sort(), ['lib/index.js', 'package.json']);
    assert.equal(result.files.get('lib/index.js')?.bytes.toString(), 'module.exports = 1;\n');
  });

  test('any single top directory is stripped (not only package/)', async () => {
    const raw = makeRawTarball([{ path: 'node-v1/package.json', body: '{}' }]);
    const result = await read(raw);
    assert.deepEqual([...result.allPaths], ['package.json']);
  });

  test('long paths through pax headers are read in full', async () => {
    const deep = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(60)}.js`;
    const result = await read(await makeTarball({ [deep]: 'x' }));
    assert.ok(result.allPaths.has(deep));
    assert.deepEqual(result.extraction.issues, []);
  });

  test('flags ../ escapes and absolute paths, and keeps what npm makes of them', async () => {
    const result = await read(await makeTarball({ 'package.json': '{}' }, { escape: true, absolute: true }));
    assert.deepEqual(kinds(result).sort(), ['absolute-path', 'path-escape']);
    // npm strips the first component before anything else: `../escape.txt` is installed as
    // `escape.txt`, `/tmp/x/absolute.txt` as `tmp/x/absolute.txt`.
    const paths = [...result.allPaths].sort();
    assert.equal(paths.length, 3);
    assert.ok(paths.includes('escape.txt') && paths.includes('package.json'));
    assert.ok(paths.some((p) => p.startsWith('tmp/') && p.endsWith('/absolute.txt')));
  });

  test('flags symlinks pointing outside the package, accepts links inside', async () => {
    const outside = await read(
      await makeTarball({ 'package.json': '{}', evil: { symlink: '../../../etc/passwd' } }),
    );
    assert.deepEqual(kinds(outside), ['link-outside']);
    const absolute = await read(
      await makeTarball({ 'package.json': '{}', evil: { symlink: '/etc/passwd' } }),
    );
    assert.deepEqual(kinds(absolute), ['link-outside']);
    const inside = await read(
      await makeTarball({ 'package.json': '{}', 'lib/a.js': 'x', 'alias.js': { symlink: 'lib/a.js' } }),
    );
    assert.deepEqual(kinds(inside), []);
  });

  test('flags hard links outside and device files', async () => {
    const raw = makeRawTarball([
      { path: 'package/package.json', body: '{}' },
      { path: 'package/hard', type: 'Link', linkpath: '../../etc/shadow' },
      { path: 'package/hard-ok', type: 'Link', linkpath: 'package/package.json' },
      { path: 'package/tty', type: 'CharacterDevice' },
      { path: 'package/disk', type: 'BlockDevice' },
      { path: 'package/pipe', type: 'FIFO' },
    ]);
    const result = await read(raw);
    assert.deepEqual(kinds(result), ['link-outside', 'special-file', 'special-file', 'special-file']);
  });

  test('a truncated gzip stream is a corrupt finding, not a crash', async () => {
    const tgz = await makeTarball({ 'package.json': '{}', 'index.js': 'x'.repeat(5000) });
    const result = await read(tgz.subarray(0, Math.floor(tgz.length / 2)));
    assert.ok(kinds(result).includes('corrupt'));
    assert.equal(result.extraction.complete, false);
  });

  test('garbage, empty input and a tar cut mid-entry are corrupt', async () => {
    assert.deepEqual(kinds(await read(Buffer.from('definitely not a tarball'))), ['corrupt']);
    assert.deepEqual(kinds(await read(new Uint8Array())), ['corrupt']);
    const raw = makeRawTarball([{ path: 'package/index.js', body: 'y'.repeat(3000) }]);
    const cut = gzipSync(gunzipSync(raw).subarray(0, 1500));
    assert.deepEqual(kinds(await read(cut)), ['corrupt']);
  });

  test('a header with a bad checksum is corrupt', async () => {
    const tar = gunzipSync(makeRawTarball([{ path: 'package/index.js', body: 'x' }]));
    tar[0] = 'Q'.charCodeAt(0);
    const result = await read(gzipSync(tar));
    assert.ok(kinds(result).length > 0 && kinds(result).every((k) => k === 'corrupt'));
    assert.equal(result.extraction.complete, false);
  });

  test('too many files stops reading with limit-exceeded', async () => {
    const files: Record<string, string> = { 'package.json': '{}' };
    for (let i = 0; i < 30; i++) files[`f${i}.js`] = `${i}`;
    const result = await read(await makeTarball(files), { maxFiles: 20 });
    assert.deepEqual(kinds(result), ['limit-exceeded']);
    assert.equal(result.extraction.complete, false);
    assert.equal((await read(await makeTarball(files), { maxFiles: 100 })).extraction.issues.length, 0);
  });

  test('unpacked size, per-file size, compressed size and path length limits', async () => {
    const tgz = await makeTarball({
      'package.json': '{}',
      'big.js': 'a'.repeat(50_000),
      'b.js': 'b'.repeat(50_000),
    });
    assert.deepEqual(kinds(await read(tgz, { maxUnpackedBytes: 80_000 })), ['limit-exceeded']);
    assert.deepEqual(kinds(await read(tgz, { maxFileBytes: 40_000 })), ['limit-exceeded']);
    assert.deepEqual(kinds(await read(tgz, { maxCompressedBytes: 10 })), ['limit-exceeded']);
    const long = kinds(await read(tgz, { maxPathLength: 10 }));
    assert.ok(long.length > 0 && long.every((k) => k === 'limit-exceeded'));
    assert.deepEqual(kinds(await read(tgz)), []);
  });

  test('inflation ratio: past its allowance, a stream that inflates too far is over the limits', async () => {
    // 2 MB of zeros in a file gzips to a few KB: far above a 20x ratio once past 64 KB.
    const tgz = await makeTarball({ 'package.json': '{}', 'zeros.bin': Buffer.alloc(2 * 1024 * 1024) });
    const bounded = { maxInflationRatio: 20, inflationAllowanceBytes: 64 * 1024 };
    const result = await read(tgz, bounded);
    assert.deepEqual(kinds(result), ['limit-exceeded']);
    assert.match(result.extraction.issues[0]?.detail ?? '', /decompressed stream above/);
    assert.equal(result.extraction.complete, false);
    // The allowance lets small, well-compressed archives through whatever their ratio.
    assert.deepEqual(kinds(await read(tgz, { ...bounded, inflationAllowanceBytes: 4 * 1024 * 1024 })), []);
  });

  test('a gzip bomb of zeros is stopped soon after the end-of-archive marker', async () => {
    // node-tar buffers what follows the marker (quadratically): more than 1 MB of it is refused.
    const result = await read(gzipSync(Buffer.alloc(32 * 1024 * 1024)));
    assert.deepEqual(kinds(result), ['limit-exceeded']);
    assert.equal(result.extraction.fileCount, 0);
    const padded = await read(
      gzipSync(
        Buffer.concat([gunzipSync(await makeTarball({ 'package.json': '{}' })), Buffer.alloc(20 * 1024)]),
      ),
    );
    assert.deepEqual(kinds(padded), []);
  });

  test('files over the scan limit are counted but not kept', async () => {
    const tgz = await makeTarball({ 'package.json': '{}', 'huge.js': 'z'.repeat(20_000) });
    const result = await read(tgz, { maxScanFileBytes: 10_000 });
    assert.ok(result.allPaths.has('huge.js'));
    assert.equal(result.files.has('huge.js'), false);
    assert.equal(result.skipped[0]?.path, 'huge.js');
  });
});
