import { strict as assert } from 'node:assert';
import { mkdtemp, mkdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { copyPackages, installPath } from './place-packages.js';
import { placePackages } from './prepare-run.js';

describe('installPath', () => {
  test('flat by default, nested and scoped paths as npm places them', () => {
    assert.equal(installPath({ name: 'a' }), 'node_modules/a');
    assert.equal(installPath({ name: '@s/a' }), 'node_modules/@s/a');
    assert.equal(
      installPath({ name: 'b', path: 'node_modules/a/node_modules/b' }),
      'node_modules/a/node_modules/b',
    );
    assert.equal(
      installPath({ name: '@t/b', path: 'node_modules/@s/a/node_modules/@t/b' }),
      'node_modules/@s/a/node_modules/@t/b',
    );
    assert.equal(
      installPath({ name: 'b', path: 'node_modules/a/./node_modules/b' }),
      'node_modules/a/node_modules/b',
    );
  });

  test('refuses escaping names and paths, and paths that are not npm install paths', () => {
    for (const pkg of [
      { name: '../x' },
      { name: '__proto__/..' },
      { name: 'b', path: '../node_modules/b' },
      { name: 'b', path: '/node_modules/b' },
      { name: 'b', path: 'node_modules/a/../../b' },
      { name: 'b', path: 'node_modules/a/b' },
      { name: 'b', path: 'node_modules/.bin/b' },
      { name: 'b', path: 'node_modules/a/node_modules/c' },
      { name: 'b', path: 'lib/node_modules/b' },
    ])
      assert.throws(() => installPath(pkg), /invalid/, JSON.stringify(pkg));
  });
});

describe('placePackages', () => {
  const base = { phase: 'install' as const, packageName: 'p', packageVersion: '1.0.0', packageDir: '/x/p' };

  test('the package first, then dependencies shallow before deep', () => {
    const placed = placePackages({
      ...base,
      dependencies: [
        { name: 'c', dir: '/x/c', path: 'node_modules/a/node_modules/b/node_modules/c' },
        { name: 'b', dir: '/x/b', path: 'node_modules/a/node_modules/b' },
        { name: 'a', dir: '/x/a' },
        { name: 'd', dir: '/x/d', path: 'node_modules/p/node_modules/d' },
      ],
    });
    assert.deepEqual(
      placed.map((p) => p.path),
      [
        'node_modules/p',
        'node_modules/a',
        'node_modules/a/node_modules/b',
        'node_modules/p/node_modules/d',
        'node_modules/a/node_modules/b/node_modules/c',
      ],
    );
    assert.equal(placed[0]?.dir, '/x/p');
  });

  test('refuses a dependency at the package path or two at one path', () => {
    assert.throws(() => placePackages({ ...base, dependencies: [{ name: 'p', dir: '/x/q' }] }), /share/);
    assert.throws(
      () =>
        placePackages({
          ...base,
          dependencies: [
            { name: 'a', dir: '/x/a1' },
            { name: 'a', dir: '/x/a2', path: 'node_modules/a' },
          ],
        }),
      /share/,
    );
    assert.throws(() => placePackages({ ...base, packageName: '../p' }), /invalid/);
  });
});

describe('copyPackages', () => {
  test('copies directories in order, nested ones merging into their parents, links kept', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sr-place-'));
    try {
      await mkdir(join(root, 'a'));
      await writeFile(join(root, 'a/index.js'), 'a', { mode: 0o755 });
      await symlink('index.js', join(root, 'a/link.js'));
      await mkdir(join(root, 'b'));
      await writeFile(join(root, 'b/index.js'), 'b');
      const out = join(root, 'out');
      await copyPackages([
        { from: join(root, 'a'), to: join(out, 'node_modules/a') },
        { from: join(root, 'b'), to: join(out, 'node_modules/a/node_modules/b') },
      ]);
      assert.equal(await readFile(join(out, 'node_modules/a/index.js'), 'utf8'), 'a');
      assert.equal((await stat(join(out, 'node_modules/a/index.js'))).mode & 0o777, 0o755);
      assert.equal(await readlink(join(out, 'node_modules/a/link.js')), 'index.js');
      assert.equal(await readFile(join(out, 'node_modules/a/node_modules/b/index.js'), 'utf8'), 'b');
      await assert.rejects(copyPackages([{ from: join(root, 'missing'), to: join(out, 'x') }]), /copying/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
