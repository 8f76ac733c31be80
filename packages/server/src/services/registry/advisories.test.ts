import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { buildBulkAdvisories, parseBulkRequest } from './advisories.js';
import { artifact } from './test-support/fixtures.js';

describe('bulk advisories', () => {
  test('parseBulkRequest validates and skips invalid names', () => {
    const parsed = parseBulkRequest(JSON.parse('{"a":["1.0.0","1.0.0"],"__proto__":["1"],"@s/b":[]}'));
    assert.deepEqual(
      [...parsed],
      [
        ['a', ['1.0.0']],
        ['@s/b', []],
      ],
    );
    assert.throws(() => parseBulkRequest([]), TypeError);
    assert.throws(() => parseBulkRequest({ a: '1.0.0' }), /must be a list of strings/);
    assert.throws(() => parseBulkRequest({ a: [1] }), /must be a list of strings/);
  });

  test('rejected and held versions become advisories in npm format', () => {
    const records = [
      artifact('evil', '1.0.0'),
      artifact('evil', '1.0.1', {
        verdict: 'rejected',
        reason: 'honeytoken sent to exfil.test',
        findings: [{ rule: 'honeytoken-exfil', severity: 'critical', message: 'm', evidence: [] }],
      }),
      artifact('evil', '1.0.2', { verdict: 'review', reason: 'network during install' }),
      artifact('evil', '1.0.3', { verdict: 'review' }),
      artifact('evil', '1.0.3', { verdict: 'approved', integrity: 'sha512-QQ==' }),
      artifact('evil', '1.0.4', { verdict: 'pending' }),
    ];
    const out = buildBulkAdvisories({
      request: new Map([
        ['evil', ['1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.0.4', '9.9.9']],
        ['clean', ['1.0.0']],
      ]),
      recordsByName: new Map([['evil', records]]),
      baseUrl: 'http://127.0.0.1:1/',
    });
    assert.deepEqual(Object.keys(out), ['evil']);
    const list = out.evil!;
    assert.deepEqual(
      list.map((a) => [a.vulnerable_versions, a.severity]),
      [
        ['1.0.1', 'critical'],
        ['1.0.2', 'moderate'],
      ],
    );
    const first = list[0]!;
    assert.equal(first.url, 'http://127.0.0.1:1/api/v1/packages/evil/1.0.1');
    assert.match(first.title, /evil@1\.0\.1 rejected: honeytoken sent to exfil\.test/);
    assert.ok(Number.isSafeInteger(first.id) && first.id > 0);
    assert.deepEqual(first.cwe, []);
    assert.deepEqual(first.cvss, { score: 0, vectorString: null });
    // Same verdict, same id.
    const again = buildBulkAdvisories({
      request: new Map([['evil', ['1.0.1']]]),
      recordsByName: new Map([['evil', records]]),
      baseUrl: 'http://x',
    });
    assert.equal(again.evil?.[0]?.id, first.id);
  });

  test('a rejection without findings is at least high', () => {
    const out = buildBulkAdvisories({
      request: new Map([['@s/x', ['2.0.0']]]),
      recordsByName: new Map([['@s/x', [artifact('@s/x', '2.0.0', { verdict: 'rejected' })]]]),
      baseUrl: 'http://x',
    });
    assert.equal(out['@s/x']?.[0]?.severity, 'high');
    assert.equal(out['@s/x']?.[0]?.url, 'http://x/api/v1/packages/@s%2Fx/2.0.0');
  });
});
