import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { constants, gzipSync } from 'node:zlib';
import { analyzeStatic, type StaticReport } from '@secure-registry/analyzer';
import { evaluateArtifact } from './engine.js';
import { parsePolicy } from './policy.js';

/**
 * The extraction limits on tarballs of realistic size, through the real static analyzer and the
 * rules: a large native binary is analysed and approved; an archive past the limits is held,
 * never rejected and never approved.
 */

const NOW = new Date('2026-12-06T12:00:00Z');
const NAME = 'swc-like.example';
const VERSION = '14.2.33';

function ustarHeader(name: string, size: number): Buffer {
  const block = Buffer.alloc(512);
  block.write(name, 0, 100, 'utf8');
  block.write('0000644\0', 100, 'ascii');
  block.write('0000000\0', 108, 'ascii');
  block.write('0000000\0', 116, 'ascii');
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  block.write('00000000000\0', 136, 'ascii');
  block.write('0', 156, 'ascii');
  block.write('ustar\u000000', 257, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

function gzipTar(files: [string, Buffer][]): Buffer {
  const blocks: Buffer[] = [];
  for (const [path, body] of files)
    blocks.push(
      ustarHeader(`package/${path}`, body.length),
      body,
      Buffer.alloc((512 - (body.length % 512)) % 512),
    );
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks), { level: constants.Z_BEST_SPEED });
}

/**
 * Bytes that gzip about as well as a native binary (@next/swc-linux-x64-musl@14.2.33: 156,809,432
 * bytes in a 50,269,395-byte tarball, ratio 3.1): random bytes of 3 bits each, in 1 MiB blocks
 * (gzip's window is 32 KiB, so repeating a block gains nothing).
 */
function binaryLike(bytes: number): Buffer {
  const block = randomBytes(1024 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = 0x40 | (block[i]! & 0x07);
  const out = Buffer.allocUnsafe(bytes);
  for (let offset = 0; offset < bytes; offset += block.length) block.copy(out, offset, 0, bytes - offset);
  return out;
}

const manifest = (main: string): Buffer =>
  Buffer.from(
    JSON.stringify({
      name: NAME,
      version: VERSION,
      os: ['linux'],
      cpu: ['x64'],
      libc: ['musl'],
      main,
      license: 'MIT',
    }),
  );

const maintainers = [{ name: 'maintainer-one', email: 'one@example.test' }];
const doc = { scripts: {}, maintainers, _npmUser: maintainers[0], dist: {} };
const packument = {
  name: NAME,
  versions: { '14.2.32': doc, [VERSION]: doc },
  time: {
    created: '2020-01-01T00:00:00Z',
    '14.2.32': '2025-01-01T00:00:00Z',
    [VERSION]: '2025-06-01T00:00:00Z',
  },
  maintainers,
};

const analyze = (tarball: Buffer): Promise<StaticReport> =>
  analyzeStatic({ name: NAME, version: VERSION, tarball, packument, now: NOW });

const judge = (report: StaticReport, policy = parsePolicy({})) =>
  evaluateArtifact({ name: NAME, version: VERSION, static: report, policy, now: NOW });

describe('extraction limits on tarballs of real size', () => {
  test('a 157 MB native binary (the size of @next/swc-linux-x64-musl@14.2.33) is read whole and approved', async () => {
    const binary = 'next-swc.linux-x64-musl.node';
    const tarball = gzipTar([
      ['package.json', manifest(binary)],
      ['README.md', Buffer.from('This is the x86_64-unknown-linux-musl binary for `@next/swc`\n')],
      [binary, binaryLike(156_809_432)],
    ]);
    assert.ok(tarball.length > 40e6, `a realistic compressed size (${tarball.length} bytes)`);
    const report = await analyze(tarball);
    assert.deepEqual(report.extraction.issues, []);
    assert.equal(report.extraction.complete, true);
    assert.equal(report.extraction.unpackedBytes > 156_000_000, true);
    const evaluation = judge(report);
    assert.deepEqual(
      evaluation.findings.filter((f) => f.severity !== 'info'),
      [],
    );
    assert.equal(evaluation.verdict, 'approved');
  });

  test('an archive past the limits (a 300 MB file of zeros in 300 KB) is held for review, not rejected', async () => {
    const tarball = gzipTar([
      ['package.json', manifest('index.js')],
      ['zeros.bin', Buffer.alloc(300 * 1024 * 1024)],
    ]);
    assert.ok(tarball.length < 2e6);
    const report = await analyze(tarball);
    assert.deepEqual(
      report.extraction.issues.map((i) => i.kind),
      ['limit-exceeded'],
    );
    assert.match(report.extraction.issues[0]!.detail, /decompressed stream above/);
    const evaluation = judge(report);
    assert.equal(evaluation.verdict, 'review');
    assert.ok(evaluation.findings.some((f) => f.rule === 'extraction-limits'));
    assert.ok(!evaluation.findings.some((f) => f.rule === 'hostile-tarball' || f.severity === 'critical'));
    // Neither fail-open nor an exception turns an analysis that could not finish into an approval.
    const lenient = parsePolicy({
      onError: 'fail-open',
      exceptions: [{ package: `${NAME}@${VERSION}`, reason: 'we trust it', expires: '2027-12-31T00:00:00Z' }],
    });
    assert.equal(judge(report, lenient).verdict, 'review');
  });
});
