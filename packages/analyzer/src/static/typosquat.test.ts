import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { POPULAR_PACKAGES } from './popular-packages.js';
import { damerauLevenshtein, detectTyposquat } from './typosquat.js';

describe('detectTyposquat', () => {
  test('edit distance 1: transposition, insertion, deletion, substitution', () => {
    assert.deepEqual(detectTyposquat('lodahs'), { target: 'lodash', technique: 'edit-distance' });
    assert.deepEqual(detectTyposquat('expresss'), { target: 'express', technique: 'edit-distance' });
    assert.deepEqual(detectTyposquat('axois'), { target: 'axios', technique: 'edit-distance' });
    assert.deepEqual(detectTyposquat('webpak'), { target: 'webpack', technique: 'edit-distance' });
  });

  test('separator, homoglyph and scope confusion tricks', () => {
    assert.deepEqual(detectTyposquat('reactdom'), { target: 'react-dom', technique: 'separator' });
    assert.deepEqual(detectTyposquat('l0dash'), { target: 'lodash', technique: 'homoglyph' });
    assert.deepEqual(detectTyposquat('types-node'), { target: '@types/node', technique: 'scope-confusion' });
    assert.deepEqual(detectTyposquat('@bable/core'), { target: '@babel/core', technique: 'scope-confusion' });
    assert.deepEqual(detectTyposquat('@type/node'), { target: '@types/node', technique: 'scope-confusion' });
  });

  test('popular names, short names and unrelated names are not typosquats', () => {
    for (const name of POPULAR_PACKAGES) assert.equal(detectTyposquat(name), null, name);
    assert.equal(detectTyposquat('vita'), null); // 4 characters: below the edit-distance floor
    assert.equal(detectTyposquat('secure-registry'), null);
    assert.equal(detectTyposquat('@acme/internal-utils'), null);
  });

  test('few false positives on a real lockfile of 845 packages', (t) => {
    const lock = JSON.parse(
      readFileSync(
        new URL('../../../../fixtures/lockfiles/npm-cli-v3.package-lock.json', import.meta.url),
        'utf8',
      ),
    ) as {
      packages: Record<string, unknown>;
    };
    const names = new Set(
      Object.keys(lock.packages)
        .filter(Boolean)
        .map((p) => p.slice(p.lastIndexOf('node_modules/') + 13)),
    );
    const hits = [...names].filter((n) => detectTyposquat(n) !== null);
    t.diagnostic(`${hits.length} of ${names.size} flagged: ${hits.join(', ')}`);
    assert.ok(hits.length <= 5);
  });

  test('damerauLevenshtein', () => {
    assert.equal(damerauLevenshtein('ab', 'ba'), 1);
    assert.equal(damerauLevenshtein('kitten', 'sitting'), 3);
    assert.equal(damerauLevenshtein('abc', 'abc'), 0);
  });
});
