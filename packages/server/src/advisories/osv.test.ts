import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { advisoriesFor, inOsvRange, isMalwareRecord, OsvRecord, packageAdvisories } from './osv.js';

// The shape of the OpenSSF malicious-packages records (osv/malicious/npm/<name>/MAL-*.json).
const record = OsvRecord.parse({
  modified: '2025-09-16T10:12:00Z',
  published: '2025-09-15T20:00:00Z',
  schema_version: '1.5.0',
  id: 'MAL-2025-47045',
  aliases: ['GHSA-xxxx-yyyy-zzzz'],
  summary: 'Malicious code in left-pad-thief (npm)',
  details: 'The package steals credentials.',
  affected: [
    {
      package: { ecosystem: 'npm', name: 'left-pad-thief' },
      ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }],
      database_specific: { source: 'https://github.com/ossf/malicious-packages' },
    },
    { package: { ecosystem: 'npm', name: 'co-thief' }, versions: ['1.0.3', '1.0.4'] },
    { package: { ecosystem: 'PyPI', name: 'left-pad-thief' }, versions: ['1.0.0'] },
  ],
});

test('a MAL record names npm packages with their versions and ranges; other ecosystems are left out', () => {
  assert.ok(isMalwareRecord(record));
  assert.ok(!isMalwareRecord(OsvRecord.parse({ id: 'GHSA-aaaa-bbbb-cccc' })));
  const named = packageAdvisories(record, 'test.json');
  assert.deepEqual(
    named.map((advisory) => [advisory.name, advisory.versions, advisory.ranges.length]),
    [
      ['left-pad-thief', [], 1],
      ['co-thief', ['1.0.3', '1.0.4'], 0],
    ],
  );
  assert.equal(named[0]?.summary, 'Malicious code in left-pad-thief (npm)');
  assert.deepEqual(named[0]?.aliases, ['GHSA-xxxx-yyyy-zzzz']);
});

test('versions match by list or by OSV range evaluation', () => {
  const [all, listed] = packageAdvisories(record, 'test.json');
  assert.ok(all && listed);
  assert.equal(advisoriesFor([all], '0.0.1').length, 1);
  assert.equal(advisoriesFor([all], '9.9.9-beta.1').length, 1);
  assert.equal(advisoriesFor([listed], '1.0.3')[0]?.id, 'MAL-2025-47045');
  assert.equal(advisoriesFor([listed], '1.0.5').length, 0);
  const range = {
    type: 'SEMVER',
    events: [
      { fixed: '1.2.0' },
      { introduced: '1.1.0' },
      { introduced: '2.0.0' },
      { last_affected: '2.0.3' },
    ],
  };
  assert.deepEqual(
    ['1.0.9', '1.1.0', '1.1.7', '1.2.0', '1.9.0', '2.0.0', '2.0.3', '2.0.4'].map((v) => inOsvRange(v, range)),
    [false, true, true, false, false, true, true, false],
  );
  // A range it cannot read matches nothing (no guessing), and neither does a non-semver version.
  assert.equal(inOsvRange('1.0.0', { type: 'SEMVER', events: [{ introduced: 'not-a-version' }] }), false);
  assert.equal(inOsvRange('latest', { type: 'SEMVER', events: [{ introduced: '0' }] }), false);
});
