import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { ReviewDecisionResponse, ReviewListResponse } from '@secure-registry/shared';
import { describe as describeResult, runCli, startReviewServer } from './test-support/review-server.js';
import type { ReviewServer } from './test-support/review-server.js';

describe('secure-registry review (built CLI against a real server)', () => {
  let s: ReviewServer;
  before(async () => {
    s = await startReviewServer();
  });
  after(() => s.dispose());

  test('review list --json prints the held packages with their evidence', async () => {
    const result = await runCli(['review', 'list', '--json'], s.env(s.tokens.reviewer));
    assert.equal(result.code, 0, describeResult(result));
    const body = ReviewListResponse.parse(JSON.parse(result.stdout));
    assert.deepEqual(body.packages.map((p) => `${p.name}@${p.version}`).sort(), [
      '@scope/held-b@2.0.0',
      'held-a@1.0.1',
    ]);
    const a = body.packages.find((p) => p.name === 'held-a')!;
    assert.equal(a.findings[0]?.rule, 'install-script-new');
    assert.equal(a.findings[0]?.evidence[0]?.path, 'package.json');
  });

  test('review list (plain) shows each package, its finding and the evidence line', async () => {
    const result = await runCli(['review', 'list'], s.env(s.tokens.reviewer));
    assert.equal(result.code, 0, describeResult(result));
    assert.match(result.stdout, /2 packages held for review/);
    assert.match(result.stdout, /^held-a@1\.0\.1 {2}\[high\] {2}held: install script new/m);
    assert.match(result.stdout, /high +install-script-new: an install script appears/);
    assert.match(result.stdout, /file package\.json:7 "postinstall": "node setup\.js"/);
  });

  test('a ci token is refused with a clear message and exit 3', async () => {
    const list = await runCli(['review', 'list'], s.env(s.tokens.ci));
    assert.equal(list.code, 3, describeResult(list));
    assert.match(list.stderr, /needs a token with the reviewer \(or admin\) role/);
    assert.match(list.stderr, /HTTP 403/);
    const approve = await runCli(['review', 'approve', 'held-a@1.0.1', '--reason', 'ok'], s.env(s.tokens.ci));
    assert.equal(approve.code, 3, describeResult(approve));
    assert.deepEqual(await s.server.store.listReviewDecisions({ name: 'held-a' }), []);
    const noToken = await runCli(['review', 'list'], s.env(undefined));
    assert.equal(noToken.code, 3, describeResult(noToken));
  });

  test('usage errors exit 3: no reason, no version, unknown package', async () => {
    const noReason = await runCli(['review', 'approve', 'held-a@1.0.1'], s.env(s.tokens.reviewer));
    assert.equal(noReason.code, 3, describeResult(noReason));
    assert.match(noReason.stderr, /needs a reason/);
    const noVersion = await runCli(['review', 'reject', 'held-a', '--reason', 'x'], s.env(s.tokens.reviewer));
    assert.equal(noVersion.code, 3, describeResult(noVersion));
    assert.match(noVersion.stderr, /exact version/);
    const unknown = await runCli(
      ['review', 'reject', 'nope@1.0.0', '--reason', 'x'],
      s.env(s.tokens.reviewer),
    );
    assert.equal(unknown.code, 3, describeResult(unknown));
    assert.match(unknown.stderr, /no analysed artifact of nope@1\.0\.0/);
  });

  test('approve and reject record decisions; the verdict changes and the log keeps both', async () => {
    const reject = await runCli(
      ['review', 'reject', '@scope/held-b@2.0.0', '--reason', 'posts env to a webhook', '--json'],
      s.env(s.tokens.reviewer),
    );
    assert.equal(reject.code, 0, describeResult(reject));
    const rejected = ReviewDecisionResponse.parse(JSON.parse(reject.stdout));
    assert.equal(rejected.verdict, 'rejected');
    assert.equal(rejected.record.reviewer, 'carol');
    const approve = await runCli(
      ['review', 'approve', '@scope/held-b@2.0.0', '--reason', 'the webhook is our own'],
      s.env(s.tokens.reviewer),
    );
    assert.equal(approve.code, 0, describeResult(approve));
    assert.match(approve.stdout, /^@scope\/held-b@2\.0\.0 is now approved \(decision rev_\w+ by carol\)$/m);
    const log = await s.server.store.listReviewDecisions({ name: '@scope/held-b' });
    assert.deepEqual(
      log.map((r) => [r.decision, r.reason]),
      [
        ['reject', 'posts env to a webhook'],
        ['approve', 'the webhook is our own'],
      ],
    );
    const artifact = await s.server.store.getArtifact({
      name: '@scope/held-b',
      version: '2.0.0',
      integrity: 'sha512-HELDB',
    });
    assert.equal(artifact?.verdict, 'approved');
    const list = await runCli(['review', 'list', '--json'], s.env(s.tokens.reviewer));
    assert.deepEqual(
      ReviewListResponse.parse(JSON.parse(list.stdout)).packages.map((p) => p.name),
      ['held-a'],
    );
  });

  test('an unreachable server exits 4', async () => {
    const env = { ...s.env(s.tokens.reviewer), SECURE_REGISTRY_SERVER: 'http://127.0.0.1:9' };
    const result = await runCli(['review', 'list'], env);
    assert.equal(result.code, 4, describeResult(result));
    assert.match(result.stderr, /cannot reach the server/);
  });
});
