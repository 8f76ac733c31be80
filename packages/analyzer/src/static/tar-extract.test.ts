import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { extractTarball, type TarExtraction } from './tar-extract.js';
import { header } from './test-support/hostile-tar.js';
import { DEFAULT_LIMITS } from './types.js';

/** npm's reading of archives a naive tar reader gets wrong (each checked against pacote too, in tar-differential). */

interface Spec {
  name: string;
  body?: string;
  type?: string;
  mode?: number;
  linkname?: string;
}

function tgz(entries: Spec[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    blocks.push(
      header({
        name: e.name,
        type: e.type ?? '0',
        size: body.length,
        mode: e.mode ?? 0o644,
        ...(e.linkname ? { linkname: e.linkname } : {}),
      }),
      body,
      Buffer.alloc((512 - (body.length % 512)) % 512),
    );
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

async function extract(
  tarball: Buffer,
  manifest?: Record<string, unknown>,
): Promise<{ result: TarExtraction; text: (p: string) => Promise<string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sr-extract-test-'));
  const result = await extractTarball(tarball, dir, { limits: DEFAULT_LIMITS, manifest });
  const contents = new Map<string, string>();
  for (const path of result.files.keys()) contents.set(path, await readFile(join(dir, path), 'utf8'));
  await rm(dir, { recursive: true, force: true });
  return { result, text: async (p) => contents.get(p) ?? '<absent>' };
}

const kinds = (r: TarExtraction): string[] => r.summary.issues.map((i) => i.kind);

describe('extractTarball reads archives as npm does', () => {
  test('a backslash is no separator: `lib\\x/index.js` replaces index.js (issue 13), and is flagged', async () => {
    const { result, text } = await extract(
      tgz([
        { name: 'package/package.json', body: '{"name":"p","version":"1.0.0"}' },
        { name: 'package/index.js', body: 'benign' },
        { name: 'lib\\x/index.js', body: 'thief' },
      ]),
    );
    assert.equal(await text('index.js'), 'thief');
    assert.deepEqual([...result.files.keys()].sort(), ['index.js', 'package.json']);
    assert.deepEqual(kinds(result), ['ambiguous', 'ambiguous']); // the backslash and the duplicate
  });

  test('`./package/x` keeps `package/` (the stripped component is `.`)', async () => {
    const { result } = await extract(tgz([{ name: './package/index.js', body: 'x' }]));
    assert.deepEqual([...result.files.keys()], ['package/index.js']);
  });

  test('the later of two entries wins and the duplicate is flagged', async () => {
    const { result, text } = await extract(
      tgz([
        { name: 'package/a.js', body: 'first' },
        { name: 'package/a.js', body: 'second' },
      ]),
    );
    assert.equal(await text('a.js'), 'second');
    assert.deepEqual(kinds(result), ['ambiguous']);
  });

  test('names equal up to case or Unicode normalisation with different contents are flagged', async () => {
    const { result } = await extract(
      tgz([
        { name: 'package/index.js', body: 'one' },
        { name: 'package/INDEX.js', body: 'two' },
        { name: 'package/caf\u00e9.js', body: 'same' },
        { name: 'package/cafe\u0301.js', body: 'same' },
      ]),
    );
    assert.equal(result.files.size, 4);
    assert.deepEqual(kinds(result), ['ambiguous']);
    assert.match(result.summary.issues[0]?.path ?? '', /INDEX\.js/);
  });

  test('.gitignore becomes .npmignore unless one exists; links and special files are not written', async () => {
    const { result } = await extract(
      tgz([
        { name: 'package/.gitignore', body: 'a' },
        { name: 'package/sub/.npmignore', body: 'b' },
        { name: 'package/sub/.gitignore', body: 'c' },
        { name: 'package/link', type: '2', linkname: 'index.js' },
        { name: 'package/fifo', type: '6' },
      ]),
    );
    assert.deepEqual([...result.files.keys()].sort(), ['.npmignore', 'sub/.npmignore']);
    assert.deepEqual(kinds(result), ['special-file']);
  });

  test('modes: the archive execute bits, the package.json bins and the packument bins', async () => {
    const { result } = await extract(
      tgz([
        { name: 'package/package.json', body: '{"name":"p","version":"1.0.0","bin":{"p":"./cli.js"}}' },
        { name: 'package/cli.js', body: '#!/usr/bin/env node', mode: 0o644 },
        { name: 'package/tool.sh', body: 'echo', mode: 0o755 },
        { name: 'package/other.js', body: 'x', mode: 0o644 },
        { name: 'package/from-packument.js', body: 'x', mode: 0o644 },
      ]),
      { name: 'p', bin: { q: 'from-packument.js' } },
    );
    const exec = [...result.files.values()]
      .filter((f) => f.executable)
      .map((f) => f.path)
      .sort();
    assert.deepEqual(exec, ['cli.js', 'from-packument.js', 'tool.sh']);
  });

  test('an archive npm cannot extract gives no files and a corrupt finding', async () => {
    const good = tgz([{ name: 'package/index.js', body: 'x'.repeat(4000) }]);
    const { result } = await extract(good.subarray(0, good.length - 8));
    assert.equal(result.outcome, 'failed');
    assert.equal(result.files.size, 0);
    assert.deepEqual(kinds(result), ['corrupt']);
    assert.equal(result.summary.complete, false);
  });
});

test('a tarball of many chunks is fed as a pipe feeds it: every byte written, no listener pile-up', async () => {
  const { randomBytes } = await import('node:crypto');
  const { makeTarball, packageJson } = await import('./test-support/make-tarball.js');
  // Incompressible: the gzip stream is ~3 MB, ~48 writes of 64 KiB, far more than the reader takes at once.
  const blob = randomBytes(3 * 1024 * 1024);
  const tarball = await makeTarball({
    'package.json': packageJson({ name: 'big', version: '1.0.0' }),
    'blob.bin': blob,
  });
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => void warnings.push(warning);
  process.on('warning', onWarning);
  const dir = await mkdtemp(join(tmpdir(), 'sr-feed-'));
  try {
    const extracted = await extractTarball(tarball, dir, { limits: DEFAULT_LIMITS });
    assert.equal(extracted.outcome, 'extracted');
    assert.ok((await readFile(join(dir, 'blob.bin'))).equals(blob));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      warnings.filter((w) => w.name === 'MaxListenersExceededWarning'),
      [],
    );
  } finally {
    process.off('warning', onWarning);
    await rm(dir, { recursive: true, force: true });
  }
});
