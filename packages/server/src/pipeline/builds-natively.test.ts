import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { buildsNatively } from './dynamic-stage.js';

describe('buildsNatively', () => {
  const files = (...paths: string[]) => new Set(paths);
  test('the implicit node-gyp rebuild and scripts that fall back to node-gyp', () => {
    assert.equal(buildsNatively({}, files('binding.gyp')), true);
    assert.equal(
      buildsNatively({ scripts: { install: 'prebuild-install || node-gyp rebuild' } }, files()),
      true,
    );
    assert.equal(buildsNatively({ scripts: { install: 'node-gyp-build' } }, files('binding.gyp')), true);
    assert.equal(buildsNatively({ scripts: { install: 'node install.js' } }, files('binding.gyp')), false);
    assert.equal(buildsNatively({}, files('index.js')), false);
  });
});
