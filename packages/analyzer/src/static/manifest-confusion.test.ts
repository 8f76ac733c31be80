import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { compareManifests, declaredFields } from './manifest-confusion.js';

describe('compareManifests', () => {
  const base = { name: 'demo', version: '1.0.0', dependencies: { a: '^1.0.0' }, bin: { demo: 'cli.js' } };

  test('the same manifest, as npm normalises it at publish, has no differences', () => {
    const tarball = {
      ...base,
      bin: './cli.js',
      scripts: { test: 'node test.js' },
      dependencies: { a: '^1.0.0' },
    };
    assert.deepEqual(compareManifests(base, tarball, false), []);
    // npm adds `install: node-gyp rebuild` to the registry's copy for a binding.gyp.
    const gyp = { ...base, scripts: { install: 'node-gyp rebuild' } };
    assert.deepEqual(compareManifests(gyp, base, true), []);
  });

  test('hidden install scripts, other dependencies and another bin are differences', () => {
    const tarball = {
      ...base,
      scripts: { postinstall: 'node steal.js' },
      dependencies: { a: '^1.0.0', evil: '1.0.0' },
      bin: { demo: 'cli.js', npm: 'fake-npm.js' },
    };
    const diff = compareManifests(base, tarball, false);
    assert.deepEqual(
      diff.map((d) => d.field),
      ['scripts', 'dependencies', 'bin'],
    );
    assert.equal(diff[0]?.registry, undefined);
    assert.equal(diff[0]?.tarball, '{"postinstall":"node steal.js"}');
    // The registry naming another version or dropping a dependency is one too.
    assert.deepEqual(
      compareManifests({ ...base, version: '1.0.1', dependencies: {} }, base, false).map((d) => d.field),
      ['version', 'dependencies'],
    );
  });

  test('declaredFields keeps the tarball values npm acts on', () => {
    assert.deepEqual(declaredFields({ ...base, main: 'x.js', scripts: { install: 'x' } }), {
      ...base,
      scripts: { install: 'x' },
    });
  });
});
