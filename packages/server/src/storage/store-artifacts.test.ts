import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { BACKENDS, manualClock, withDatabase } from './test-support/backends.js';
import { FINDING } from './test-support/fixtures.js';

const KEY = { name: '@scope/left-pad', version: '1.3.0', integrity: 'sha512-AAAA' };

for (const backend of BACKENDS) {
  describe(`storage artifacts and tokens (${backend.kind})`, () => {
    test('getArtifacts finds many keys at once, exactly', () =>
      withDatabase(backend, async (database) => {
        const store = await database.open();
        const keys = Array.from({ length: 700 }, (_, i) => ({ ...KEY, version: `1.0.${i}` }));
        for (const key of keys.slice(0, 650)) await store.upsertArtifact(key, { verdict: 'approved' });
        const other = { ...KEY, integrity: 'sha512-BBBB' };
        const found = await store.getArtifacts([...keys, other]);
        assert.equal(found.size, 650);
        assert.equal(found.get(`${KEY.name}@1.0.649#${KEY.integrity}`)?.verdict, 'approved');
        assert.equal(found.has(`${KEY.name}@1.0.650#${KEY.integrity}`), false);
        assert.equal((await store.getArtifacts([])).size, 0);
      }));

    test('an artifact round-trips with JSON findings and reports', () =>
      withDatabase(backend, async (database) => {
        const store = await database.open();
        assert.equal(store.kind, backend.kind);
        assert.equal(await store.getArtifact(KEY), undefined);
        const created = await store.upsertArtifact(KEY, {
          verdict: 'rejected',
          reason: 'network access during install',
          findings: [FINDING],
          reports: { static: { files: 3, signals: ['install-script'] } },
          ruleSetVersion: 'rules-7',
          storagePath: 'sha512/aa/aaaa.tgz',
        });
        const read = await store.getArtifact(KEY);
        assert.deepEqual(read, created);
        assert.equal(read?.verdict, 'rejected');
        assert.deepEqual(read?.findings, [FINDING]);
        assert.deepEqual(read?.reports, { static: { files: 3, signals: ['install-script'] } });
        assert.equal(read?.ruleSetVersion, 'rules-7');
        assert.equal(read?.storagePath, 'sha512/aa/aaaa.tgz');
        assert.ok(read?.decidedAt, 'a decided verdict gets decidedAt');
        // Another integrity of the same name@version is another artifact.
        assert.equal(await store.getArtifact({ ...KEY, integrity: 'sha512-BBBB' }), undefined);
      }));

    test('upsertArtifact never downgrades and keeps absent fields', () =>
      withDatabase(backend, async (database) => {
        const clock = manualClock();
        const store = await database.open({ clock: clock.now });
        const pending = await store.upsertArtifact(KEY, { storagePath: 'p.tgz' });
        assert.equal(pending.verdict, 'pending');
        assert.equal(pending.decidedAt, undefined);
        clock.advance(1000);
        const approved = await store.upsertArtifact(KEY, { verdict: 'approved', reports: { static: 1 } });
        assert.equal(approved.decidedAt, new Date(clock.now()).toISOString());
        assert.equal(approved.storagePath, 'p.tgz', 'absent fields are kept');
        assert.equal(approved.createdAt, pending.createdAt);
        clock.advance(1000);
        const stillApproved = await store.upsertArtifact(KEY, {
          verdict: 'pending',
          reports: { install: 2 },
        });
        assert.equal(stillApproved.verdict, 'approved', 'pending never replaces a decision');
        assert.equal(stillApproved.decidedAt, approved.decidedAt);
        assert.deepEqual(stillApproved.reports, { static: 1, install: 2 }, 'reports merge by stage');
        const rejected = await store.upsertArtifact(KEY, { verdict: 'rejected', reason: 'reviewer said no' });
        assert.equal(rejected.verdict, 'rejected', 'a decided verdict replaces a decided verdict');
        assert.equal(rejected.reason, 'reviewer said no');
        assert.equal(rejected.decidedAt, new Date(clock.now()).toISOString());
      }));

    test('concurrent upserts of one artifact all apply', () =>
      withDatabase(backend, async (database) => {
        const store = await database.open();
        const stages = Array.from({ length: 12 }, (_, index) => `stage${index}`);
        await Promise.all(stages.map((stage) => store.upsertArtifact(KEY, { reports: { [stage]: stage } })));
        const read = await store.getArtifact(KEY);
        assert.deepEqual(Object.keys(read?.reports ?? {}).sort(), [...stages].sort());
      }));

    test('listArtifactsByName returns every version and integrity of a name only', () =>
      withDatabase(backend, async (database) => {
        const store = await database.open();
        await store.upsertArtifact(KEY, { verdict: 'approved' });
        await store.upsertArtifact({ ...KEY, version: '1.4.0' }, {});
        await store.upsertArtifact({ ...KEY, integrity: 'sha512-BBBB' }, { verdict: 'rejected' });
        await store.upsertArtifact({ ...KEY, name: '@scope/left-pad2' }, {});
        const list = await store.listArtifactsByName(KEY.name);
        assert.deepEqual(list.map((a) => `${a.version} ${a.integrity} ${a.verdict}`).sort(), [
          '1.3.0 sha512-AAAA approved',
          '1.3.0 sha512-BBBB rejected',
          '1.4.0 sha512-AAAA pending',
        ]);
        assert.deepEqual(await store.listArtifactsByName('nope'), []);
      }));

    test('tokens are found by hash only, and a hash is unique', () =>
      withDatabase(backend, async (database) => {
        const store = await database.open();
        const hash = 'a'.repeat(64);
        const created = await store.createToken({ id: 'tok1', hash, role: 'reviewer', label: 'alice' });
        assert.deepEqual(created, {
          id: 'tok1',
          role: 'reviewer',
          label: 'alice',
          createdAt: created.createdAt,
        });
        assert.deepEqual(await store.findTokenByHash(hash), created);
        assert.equal(await store.findTokenByHash('b'.repeat(64)), undefined);
        assert.equal(await store.findTokenByHash('tok1'), undefined, 'the id is not a credential');
        await assert.rejects(store.createToken({ id: 'tok2', hash, role: 'admin' }));
        const ci = await store.createToken({ id: 'tok3', hash: 'c'.repeat(64), role: 'ci' });
        assert.equal(ci.label, undefined);
      }));
  });
}
