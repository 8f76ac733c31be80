import { strict as assert } from 'node:assert';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildTarball } from '../test-support/fake-upstream.js';
import { writePackageDir } from './package-dir.js';

test('writePackageDir writes files above the scan limit in full (a platform package binary)', async () => {
  const big = 'x'.repeat(9 * 1024 * 1024);
  const built = await buildTarball({
    'package.json': JSON.stringify({ name: 'big', version: '1.0.0' }),
    'bin/tool': `#!/bin/sh\n${big}`,
  });
  const pkg = await writePackageDir(built.bytes);
  try {
    assert.deepEqual([...pkg.files].sort(), ['bin/tool', 'package.json']);
    const written = await readFile(join(pkg.dir, 'bin/tool'), 'utf8');
    assert.equal(written.length, big.length + 10);
    assert.equal((await stat(join(pkg.dir, 'bin/tool'))).mode & 0o777, 0o755);
    assert.ok(pkg.bytes > big.length);
    assert.deepEqual(pkg.issues, []);
    assert.equal(pkg.manifest?.name, 'big');
  } finally {
    await pkg.cleanup();
  }
});
