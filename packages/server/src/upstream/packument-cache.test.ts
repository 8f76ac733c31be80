import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { PackumentCache } from './packument-cache.js';

describe('packument cache', () => {
  test('keeps at most maxBytes of JSON: the oldest goes first, one read again moves to the back', () => {
    const cache = new PackumentCache<string>({ ttlMs: 60_000, maxBytes: 100 });
    cache.set('a', 'A', 40);
    cache.set('b', 'B', 40);
    assert.equal(cache.get('a'), 'A'); // a is now the newest
    cache.set('c', 'C', 40);
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('a'), 'A');
    assert.equal(cache.get('c'), 'C');
    assert.equal(cache.bytes, 80);
  });

  test('a packument larger than the whole budget is not kept, and replaces no smaller one', () => {
    const cache = new PackumentCache<string>({ ttlMs: 60_000, maxBytes: 100 });
    cache.set('small', 'S', 10);
    cache.set('huge', 'H', 101);
    assert.equal(cache.get('huge'), undefined);
    assert.equal(cache.get('small'), 'S');
    assert.equal(cache.bytes, 10);
  });

  test('expired entries are not served and are dropped when met, freeing their bytes', () => {
    let now = 0;
    const cache = new PackumentCache<string>({ ttlMs: 1_000, maxBytes: 100, now: () => now });
    cache.set('old', 'O', 30);
    now = 500;
    cache.set('young', 'Y', 30);
    now = 1_000;
    assert.equal(cache.get('old'), undefined);
    assert.equal(cache.bytes, 30);
    now = 1_600;
    cache.set('next', 'N', 10); // 'young' expired at 1,500: dropped on the way
    assert.equal(cache.bytes, 10);
    assert.equal(cache.get('next'), 'N');
  });

  test('setting a name again replaces its entry and its size', () => {
    const cache = new PackumentCache<string>({ ttlMs: 60_000, maxBytes: 100 });
    cache.set('a', 'A1', 60);
    cache.set('a', 'A2', 20);
    assert.equal(cache.get('a'), 'A2');
    assert.equal(cache.bytes, 20);
  });
});
