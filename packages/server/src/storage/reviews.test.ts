import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BACKENDS, manualClock, withDatabase } from './test-support/backends.js';
import { FINDING } from './test-support/fixtures.js';

const KEY = { name: '@scope/held', version: '1.0.0', integrity: 'sha512-HELD' };

for (const backend of BACKENDS) {
  describe(`storage review decisions (${backend.kind})`, () => {
    test('decisions are appended, never replaced, and listed oldest first', () =>
      withDatabase(backend, async (database) => {
        const clock = manualClock();
        const store = await database.open({ clock: clock.now });
        const first = await store.appendReviewDecision({
          ...KEY,
          decision: 'reject',
          reviewer: 'alice',
          role: 'reviewer',
          reason: 'posts ~/.npmrc to a webhook',
          evidence: ['finding:exfil-endpoint', 'event:install#12'],
          ruleSetVersion: 'rules-1',
        });
        assert.match(first.id, /^rev_/);
        assert.equal(first.createdAt, new Date(clock.now()).toISOString());
        // Same timestamp: the order of insertion is kept.
        const second = await store.appendReviewDecision({
          ...KEY,
          decision: 'approve',
          reviewer: 'llm:test-model',
          role: 'llm',
          reason: 'second look',
          evidence: [],
          ruleSetVersion: undefined,
        });
        clock.advance(1000);
        await store.appendReviewDecision({
          ...KEY,
          version: '2.0.0',
          decision: 'approve',
          reviewer: 'bob',
          role: 'admin',
          reason: 'other version',
          evidence: [],
          ruleSetVersion: 'rules-1',
        });
        const forKey = await store.listReviewDecisions(KEY);
        assert.deepEqual(
          forKey.map((r) => [r.reviewer, r.decision]),
          [
            ['alice', 'reject'],
            ['llm:test-model', 'approve'],
          ],
        );
        assert.deepEqual(forKey[0], first);
        assert.deepEqual(forKey[1], second);
        assert.equal(forKey[1]?.ruleSetVersion, undefined);
        assert.deepEqual(forKey[0]?.evidence, ['finding:exfil-endpoint', 'event:install#12']);
        assert.equal((await store.listReviewDecisions({ name: KEY.name })).length, 3);
        assert.equal((await store.listReviewDecisions({ name: 'other' })).length, 0);
        assert.equal((await store.listReviewDecisions({ name: KEY.name, limit: 1 })).length, 1);
      }));

    test('listArtifactsByVerdict returns the held artifacts only', () =>
      withDatabase(backend, async (database) => {
        const store = await database.open();
        await store.upsertArtifact(KEY, { verdict: 'review', reason: 'held', findings: [FINDING] });
        await store.upsertArtifact({ ...KEY, version: '0.9.0' }, { verdict: 'approved' });
        await store.upsertArtifact({ ...KEY, version: '0.8.0' }, {});
        const held = await store.listArtifactsByVerdict('review');
        assert.deepEqual(
          held.map((a) => a.version),
          ['1.0.0'],
        );
        assert.deepEqual(held[0]?.findings, [FINDING]);
        assert.equal((await store.listArtifactsByVerdict('pending')).length, 1);
      }));
  });
}

test('the review module has no UPDATE or DELETE code path', async () => {
  const source = await readFile(
    fileURLToPath(new URL('../../src/storage/reviews.ts', import.meta.url)),
    'utf8',
  );
  assert.doesNotMatch(source, /updateTable|deleteFrom|\bUPDATE\b|\bDELETE\b/);
  assert.match(source, /insertInto\('review_decisions'\)/);
});
