import { strict as assert } from 'node:assert';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildTarball } from '../test-support/fake-upstream.js';
import { createStaticAnalyzer } from './static-stage.js';

const input = async (signal: AbortSignal) => ({
  name: 'kept-lib',
  version: '1.0.0',
  tarball: (
    await buildTarball({
      'package.json': JSON.stringify({ name: 'kept-lib', version: '1.0.0', main: 'index.js' }),
      'index.js': 'module.exports = 1;\n',
    })
  ).bytes,
  packument: {},
  signal,
});

for (const workers of [0, 1]) {
  test(`analyzeKeeping (${workers} workers): the sandbox gets the files the static stage read, extracted once`, async () => {
    const stage = createStaticAnalyzer({ workers });
    const { pieces, packageDir } = await stage.analyzeKeeping(await input(new AbortController().signal));
    assert.equal(pieces.static?.extraction.complete, true);
    assert.ok(packageDir);
    assert.deepEqual([...packageDir.files].sort(), ['index.js', 'package.json']);
    assert.equal(packageDir.manifest?.name, 'kept-lib');
    assert.equal(await readFile(join(packageDir.dir, 'index.js'), 'utf8'), 'module.exports = 1;\n');
    await packageDir.cleanup();
    await assert.rejects(access(packageDir.dir));
  });
}
