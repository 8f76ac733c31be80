import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { splitNpmArgs } from './npm-args.js';

describe('splitNpmArgs', () => {
  test('separates package specs from boolean flags', () => {
    assert.deepEqual(splitNpmArgs(['lodash@^4', '-D', '@scope/pkg', '--save-exact']), {
      specs: ['lodash@^4', '@scope/pkg'],
      flags: ['-D', '--save-exact'],
    });
  });

  test('a value flag keeps its value out of the specs', () => {
    assert.deepEqual(splitNpmArgs(['--omit', 'dev', 'left-pad', '-w', 'packages/a', '--tag=next']), {
      specs: ['left-pad'],
      flags: ['--omit', 'dev', '-w', 'packages/a', '--tag=next'],
    });
  });

  test('everything after -- is a spec', () => {
    assert.deepEqual(splitNpmArgs(['-D', '--', '-odd-name']), { specs: ['-odd-name'], flags: ['-D'] });
  });

  test('flags that would change the registry or vet nothing are refused', () => {
    for (const arg of [
      '--registry=http://x.test/',
      '--registry',
      '-g',
      '--global',
      '--replace-registry-host=never',
    ]) {
      assert.throws(() => splitNpmArgs([arg, 'x']), { code: 'ERR_SR_USAGE' }, arg);
    }
  });
});
