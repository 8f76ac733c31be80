import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { checkIntegrity, computeIntegrity, upstreamIntegrity } from './integrity.js';

const bytes = Buffer.from('the tarball bytes');
const actual = computeIntegrity(bytes);
const other = computeIntegrity(Buffer.from('other bytes'));

describe('integrity checks', () => {
  test('matching lockfile and upstream integrity give no findings', () => {
    assert.deepEqual(checkIntegrity({ actual, lockfile: actual.sha512, upstream: actual.sha512 }), []);
  });

  test('a sha1-only lockfile or shasum-only upstream is compared by sha1', () => {
    const shasum = Buffer.from(actual.sha1.slice(5), 'base64').toString('hex');
    assert.equal(upstreamIntegrity({ shasum }), actual.sha1);
    assert.deepEqual(
      checkIntegrity({ actual, lockfile: actual.sha1, upstream: upstreamIntegrity({ shasum }) }),
      [],
    );
    const wrong = checkIntegrity({ actual, lockfile: other.sha1, upstream: actual.sha512 });
    assert.equal(wrong[0]?.rule, 'integrity-mismatch');
  });

  test('a lockfile mismatch is critical with expected and actual as evidence', () => {
    const findings = checkIntegrity({ actual, lockfile: other.sha512, upstream: actual.sha512 });
    assert.equal(findings.length, 1);
    assert.equal(findings[0]?.severity, 'critical');
    assert.equal(findings[0]?.evidence[0]?.detail, 'lockfile integrity');
    assert.match(findings[0]?.evidence[0]?.excerpt ?? '', /^expected sha512-.*; actual sha512-/);
  });

  test('an upstream mismatch is critical too; no upstream hash at all is unverifiable (high)', () => {
    assert.equal(
      checkIntegrity({ actual, lockfile: actual.sha512, upstream: other.sha512 })[0]?.rule,
      'integrity-mismatch',
    );
    const missing = checkIntegrity({ actual, lockfile: actual.sha512, upstream: upstreamIntegrity({}) });
    assert.equal(missing[0]?.rule, 'integrity-unverifiable');
    assert.equal(missing[0]?.severity, 'high');
  });

  test('garbage integrity strings never match', () => {
    assert.equal(
      checkIntegrity({ actual, lockfile: 'sha512-nope!', upstream: actual.sha512 })[0]?.rule,
      'integrity-mismatch',
    );
    assert.equal(upstreamIntegrity({ integrity: 'md5-xyz', shasum: 'zz' }), undefined);
  });
});
