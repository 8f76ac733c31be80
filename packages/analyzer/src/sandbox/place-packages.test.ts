import { strict as assert } from 'node:assert';
import { lstat, mkdtemp, mkdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { copyPackages, installPath, linkBins, packageBins } from './place-packages.js';
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

describe('bins', () => {
  test('packageBins normalizes like npm: a string names the package, names and targets cannot escape', () => {
    assert.deepEqual(packageBins({ name: '@s/tool', bin: './cli.js' }), { tool: 'cli.js' });
    assert.deepEqual(
      packageBins({ name: 'x', bin: { a: 'bin/a.js', '../../b': '../../etc/b', 'c:d': 'c' } }),
      {
        a: 'bin/a.js',
        b: 'etc/b',
        d: 'c',
      },
    );
    assert.deepEqual(packageBins({ name: 'x', bin: ['bin/one.js'] }), { 'one.js': 'bin/one.js' });
    assert.deepEqual(packageBins({ name: 'x' }), {});
    assert.deepEqual(packageBins({ name: 'x', bin: { a: 7, '': 'x.js' } }), {});
  });

  test('linkBins links each package in the .bin of its node_modules, first one wins, targets executable', async () => {
    const root = await mkdtemp(join(tmpdir(), 'sr-bins-'));
    try {
      const make = async (rel: string, manifest: object, files: Record<string, string>): Promise<string> => {
        const dir = join(root, 'src', rel.replaceAll('/', '_'));
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, 'package.json'), JSON.stringify(manifest));
        for (const [file, content] of Object.entries(files)) {
          await mkdir(join(dir, file, '..'), { recursive: true });
          await writeFile(join(dir, file), content, { mode: 0o644 });
        }
        return dir;
      };
      const placed = [
        {
          path: 'node_modules/a',
          dir: await make('a', { name: 'a', bin: { tool: 'bin/tool.js' } }, { 'bin/tool.js': 'a' }),
        },
        {
          path: 'node_modules/@s/b',
          dir: await make('b', { name: '@s/b', bin: 'cli.js' }, { 'cli.js': 'b' }),
        },
        {
          path: 'node_modules/c',
          dir: await make('c', { name: 'c', bin: { tool: 'other.js' } }, { 'other.js': 'c' }),
        },
        {
          path: 'node_modules/a/node_modules/d',
          dir: await make(
            'd',
            { name: 'd', bin: { d: 'd.js', gone: 'missing.js', out: 'up' } },
            { 'd.js': 'd' },
          ),
        },
      ];
      const project = join(root, 'project');
      await copyPackages(placed.map((p) => ({ from: p.dir, to: join(project, p.path) })));
      // A target that leaves its package through a link is not linked or touched.
      await symlink(join(root, 'src'), join(project, 'node_modules/a/node_modules/d/up'));
      await linkBins(project, placed);
      const bin = join(project, 'node_modules/.bin');
      assert.equal(await readlink(join(bin, 'tool')), '../a/bin/tool.js');
      assert.equal(await readlink(join(bin, 'b')), '../@s/b/cli.js');
      assert.equal(await readFile(join(bin, 'tool'), 'utf8'), 'a');
      assert.equal((await stat(join(project, 'node_modules/a/bin/tool.js'))).mode & 0o777, 0o755);
      assert.equal((await stat(join(project, 'node_modules/c/other.js'))).mode & 0o777, 0o644);
      const nested = join(project, 'node_modules/a/node_modules/.bin');
      assert.equal(await readlink(join(nested, 'd')), '../d/d.js');
      await assert.rejects(lstat(join(nested, 'gone')), { code: 'ENOENT' });
      await assert.rejects(lstat(join(nested, 'out')), { code: 'ENOENT' });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
