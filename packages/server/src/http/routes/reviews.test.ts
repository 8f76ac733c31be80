import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { ReviewDecisionResponse, ReviewListResponse, ScanResult } from '@secure-registry/shared';
import { startScenario, waitFor } from '../../mcp/test-support/scenario.js';
import type { Scenario } from '../../mcp/test-support/scenario.js';

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`review routes (real server, token auth, ${backend})`, () => {
    let s: Scenario;
    before(async () => {
      s = await startScenario({ backend });
    });
    after(() => s.dispose());

    test('GET /api/v1/reviews lists held packages with evidence for reviewers only', async () => {
      assert.equal((await s.server.json('GET', '/api/v1/reviews')).status, 401);
      assert.equal(
        (await s.server.json('GET', '/api/v1/reviews', undefined, s.auth(s.tokens.ci))).status,
        403,
      );
      const listed = await s.server.json<ReviewListResponse>(
        'GET',
        '/api/v1/reviews',
        undefined,
        s.auth(s.tokens.reviewer),
      );
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.body.packages.map((p) => `${p.name}@${p.version}`).sort(), [
        'risky-lib@1.0.0',
        'risky-lib@1.1.0',
      ]);
      const held = listed.body.packages.find((p) => p.version === '1.0.0')!;
      assert.equal(held.integrity, s.integrity('risky-lib', '1.0.0'));
      assert.equal(held.findings[0]?.rule, 'test-risky');
      assert.deepEqual(held.findings[0]?.evidence, [{ kind: 'file', path: 'index.js', line: 4 }]);
      assert.deepEqual(held.decisions, []);
      const admin = await s.server.json('GET', '/api/v1/reviews', undefined, s.auth(s.tokens.admin));
      assert.equal(admin.status, 200);
    });

    test('POST /api/v1/reviews: ci gets 403, bad bodies 400, unknown packages 404', async () => {
      const body = { name: 'risky-lib', version: '1.0.0', decision: 'reject', reason: 'exfiltrates' };
      const ci = await s.server.json<{ code: string }>('POST', '/api/v1/reviews', body, s.auth(s.tokens.ci));
      assert.equal(ci.status, 403);
      assert.equal(ci.body.code, 'ERR_SR_FORBIDDEN');
      const noReason = await s.server.json<{ error: string }>(
        'POST',
        '/api/v1/reviews',
        { ...body, reason: '  ' },
        s.auth(s.tokens.reviewer),
      );
      assert.equal(noReason.status, 400);
      assert.match(noReason.body.error, /reason/);
      const badDecision = await s.server.json(
        'POST',
        '/api/v1/reviews',
        { ...body, decision: 'maybe' },
        s.auth(s.tokens.reviewer),
      );
      assert.equal(badDecision.status, 400);
      const unknown = await s.server.json(
        'POST',
        '/api/v1/reviews',
        { ...body, version: '0.0.1' },
        s.auth(s.tokens.reviewer),
      );
      assert.equal(unknown.status, 404);
      assert.deepEqual(await s.server.store.listReviewDecisions({ name: 'risky-lib' }), []);
    });

    test('a decision appends a record, sets the verdict and leaves the queue; a second one appends', async () => {
      const body = { name: 'risky-lib', version: '1.0.0', decision: 'reject', reason: 'posts ~/.npmrc' };
      const first = await s.server.json<ReviewDecisionResponse>(
        'POST',
        '/api/v1/reviews',
        body,
        s.auth(s.tokens.reviewer),
      );
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal(first.body.verdict, 'rejected');
      assert.equal(first.body.record.reviewer, 'alice');
      assert.deepEqual(first.body.record.evidence, ['finding:test-risky']);
      const verdict = await s.server.json<{ verdict: string; reason: string }>(
        'GET',
        '/api/v1/packages/risky-lib/1.0.0',
        undefined,
        s.auth(s.tokens.ci),
      );
      assert.equal(verdict.body.verdict, 'rejected');
      assert.equal(verdict.body.reason, 'rejected by alice: posts ~/.npmrc');
      const tarball = await s.server.json<{ error: string }>(
        'GET',
        '/risky-lib/-/risky-lib-1.0.0.tgz',
        undefined,
        s.auth(s.tokens.ci),
      );
      assert.equal(tarball.status, 403);
      assert.match(tarball.body.error, /rejected/);
      const queue = await s.server.json<ReviewListResponse>(
        'GET',
        '/api/v1/reviews',
        undefined,
        s.auth(s.tokens.reviewer),
      );
      assert.deepEqual(
        queue.body.packages.map((p) => p.version),
        ['1.1.0'],
      );
      // The admin (no label: recorded by token id) overrides; both records stay.
      const second = await s.server.json<ReviewDecisionResponse>(
        'POST',
        '/api/v1/reviews',
        { ...body, decision: 'approve', reason: 'false positive', evidence: ['event:install#3'] },
        s.auth(s.tokens.admin),
      );
      assert.equal(second.status, 201);
      assert.equal(second.body.verdict, 'approved');
      const log = await s.server.store.listReviewDecisions({ name: 'risky-lib', version: '1.0.0' });
      assert.deepEqual(
        log.map((r) => [r.decision, r.role, r.evidence]),
        [
          ['reject', 'reviewer', ['finding:test-risky']],
          ['approve', 'admin', ['event:install#3']],
        ],
      );
      assert.deepEqual(log[0], first.body.record);
      // The vetted registry now serves the approved version, and still refuses the held one.
      const packument = await s.server.json<{ versions: Record<string, unknown> }>(
        'GET',
        '/risky-lib',
        undefined,
        s.auth(s.tokens.ci),
      );
      assert.equal(packument.status, 200, JSON.stringify(packument.body));
      const versions = packument.body.versions as Record<string, { deprecated?: string }>;
      const served = Object.keys(versions).filter((version) => versions[version]?.deprecated === undefined);
      assert.deepEqual(served, ['1.0.0']);
      assert.match(
        versions['1.1.0']?.deprecated ?? '',
        /^secure-registry refused risky-lib@1\.1\.0: held for review/,
      );
    });

    test('a rejection moves a held package of a running scan to rejected', async () => {
      const scanId = await s.startRunningScan();
      const rejected = await s.server.json<ReviewDecisionResponse>(
        'POST',
        '/api/v1/reviews',
        { name: 'risky-next', version: '1.0.0', decision: 'reject', reason: 'no' },
        s.auth(s.tokens.reviewer),
      );
      assert.equal(rejected.status, 201, JSON.stringify(rejected.body));
      assert.equal(rejected.body.scansUpdated, 1);
      const scan = await s.server.json<ScanResult>(
        'GET',
        `/api/v1/scans/${scanId}`,
        undefined,
        s.auth(s.tokens.ci),
      );
      assert.equal(scan.body.packages.find((p) => p.name === 'risky-next')?.state, 'rejected');
      s.analyzer.release();
      const done = await waitFor(s.server, s.tokens.ci, scanId, (result) => result.status === 'completed');
      assert.equal(done.counts.rejected, 1);
      assert.equal(done.counts.approved, 1);
    });
  });
}
