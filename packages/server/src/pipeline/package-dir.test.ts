import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildTarball } from '../test-support/fake-upstream.js';
import { writePackageDir } from './package-dir.js';

test('writePackageDir writes files above the scan limit in full (a platform package binary)', async () => {
  // Random bytes: node-tar (so npm) refuses archives that inflate more than 1000 times.
  const big = randomBytes(6 * 1024 * 1024).toString('base64');
  const built = await buildTarball({
    'package.json': JSON.stringify({ name: 'big', version: '1.0.0', bin: { tool: 'bin/tool' } }),
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
