import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { previousVersionOf, readMetadata } from './metadata.js';

const now = new Date('2025-09-08T18:00:00Z');

function packument(versions: Record<string, unknown>, time: Record<string, string> = {}): unknown {
  return { name: 'demo', versions, time };
}

describe('readMetadata', () => {
  test('previous version is the highest lower version by semver, not by key order', () => {
    const p = packument({ '1.10.0': {}, '1.2.0': {}, '1.9.3': {}, '2.0.0': {}, '1.10.1-beta.1': {} });
    assert.equal(previousVersionOf(p, '1.10.1'), '1.10.0');
    assert.equal(previousVersionOf(p, '1.2.0'), undefined);
    assert.equal(previousVersionOf(p, '1.10.1-beta.2'), '1.10.1-beta.1');
    assert.equal(previousVersionOf(p, 'not-semver'), undefined);
  });

  test('release type, age and creation time', () => {
    const p = packument(
      { '5.6.0': {}, '5.6.1': {} },
      { created: '2013-08-03T00:00:00Z', '5.6.1': '2025-09-08T13:00:00Z' },
    );
    const m = readMetadata(p, '5.6.1', now);
    assert.equal(m.previousVersion, '5.6.0');
    assert.equal(m.releaseType, 'patch');
    assert.equal(m.ageHours, 5);
    assert.equal(m.packageCreatedAt, '2013-08-03T00:00:00Z');
    assert.equal(m.versionCount, 2);
  });

  test('without time.created, the package was first published with its earliest version', () => {
    const p = packument(
      { '1.0.0': {}, '2.0.0': {} },
      { modified: '2010-01-01T00:00:00Z', '2.0.0': '2024-11-15T02:05:12Z', '1.0.0': '2019-03-01T00:00:00Z' },
    );
    assert.equal(readMetadata(p, '2.0.0', now).packageCreatedAt, '2019-03-01T00:00:00Z');
    assert.equal(readMetadata(packument({ '1.0.0': {} }), '1.0.0', now).packageCreatedAt, undefined);
  });

  test('maintainer and publisher changes', () => {
    const p = packument({
      '1.0.0': { maintainers: [{ name: 'alice' }, 'bob <bob@example.test>'], _npmUser: { name: 'alice' } },
      '1.0.1': { maintainers: [{ name: 'alice' }, { name: 'mallory' }], _npmUser: { name: 'mallory' } },
    });
    const m = readMetadata(p, '1.0.1', now);
    assert.deepEqual(m.maintainers.added, ['mallory']);
    assert.deepEqual(m.maintainers.removed, ['bob']);
    assert.equal(m.maintainers.publisher, 'mallory');
    assert.equal(m.maintainers.previousPublisher, 'alice');
    const same = readMetadata(
      packument({ '1.0.0': { maintainers: ['a'] }, '1.0.1': { maintainers: ['a'] } }),
      '1.0.1',
      now,
    );
    assert.deepEqual(same.maintainers.added, []);
  });

  test('provenance lost only when the previous version had attestations', () => {
    const att = {
      url: 'https://registry.npmjs.org/-/npm/v1/attestations/demo@1.0.0',
      provenance: { predicateType: 'x' },
    };
    const lost = readMetadata(
      packument({ '1.0.0': { dist: { attestations: att } }, '1.0.1': { dist: {} } }),
      '1.0.1',
      now,
    );
    assert.deepEqual(lost.provenance, { current: false, previous: true, lost: true });
    const kept = readMetadata(
      packument({ '1.0.0': { dist: { attestations: att } }, '1.0.1': { dist: { attestations: att } } }),
      '1.0.1',
      now,
    );
    assert.equal(kept.provenance.lost, false);
    const never = readMetadata(packument({ '1.0.0': { dist: {} }, '1.0.1': { dist: {} } }), '1.0.1', now);
    assert.equal(never.provenance.lost, false);
  });

  test('declared install events from scripts, gypfile or the abbreviated flag', () => {
    const p = packument({
      '1.0.0': { scripts: { postinstall: 'node x.js', test: 'tap' } },
      '2.0.0': { gypfile: true },
      '3.0.0': { hasInstallScript: false },
      '4.0.0': {},
      '5.0.0': { hasInstallScript: true },
    });
    assert.deepEqual(readMetadata(p, '1.0.0', now).packumentInstallEvents, ['postinstall']);
    assert.deepEqual(readMetadata(p, '2.0.0', now).packumentInstallEvents, ['install']);
    assert.deepEqual(readMetadata(p, '3.0.0', now).packumentInstallEvents, []);
    // A full version document without `scripts` has none; only the abbreviated flag leaves it open.
    assert.deepEqual(readMetadata(p, '4.0.0', now).packumentInstallEvents, []);
    assert.equal(readMetadata(p, '5.0.0', now).packumentInstallEvents, null);
  });

  test('hostile packuments do not throw', () => {
    for (const bad of [
      null,
      42,
      'x',
      { versions: null },
      { versions: { '1.0.0': 5 } },
      { time: { '1.0.0': 'not a date' } },
    ]) {
      const m = readMetadata(bad, '1.0.0', now);
      assert.equal(m.previousVersion, undefined);
    }
    const proto = readMetadata(
      JSON.parse('{"versions":{"__proto__":{"scripts":{"install":"x"}}}}'),
      '__proto__',
      now,
    );
    assert.equal(proto.versionCount, 1);
  });
});
