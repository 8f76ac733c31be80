import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { ScanSummary } from '@secure-registry/shared';
import { SecureRegistryError } from '@secure-registry/shared';
import { defaultPolicy, loadPolicyFile, parsePolicyText, resolvePolicy } from '../rules/policy-file.js';
import { LlmPolicy } from '../rules/policy.js';
import { FakeUpstream } from '../test-support/fake-upstream.js';
import { makeGraph } from '../test-support/graph.js';
import { startTestServer } from '../test-support/harness.js';
import { applyOpinion } from './opinion.js';
import type { DecisionStamp } from '@secure-registry/shared';

describe('policy file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sr-policy-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('the policy file is read relative to cwd; unset means the built-in policy', async () => {
    await writeFile(join(dir, 'a.json'), JSON.stringify({ minReleaseAgeHours: 24 }));
    await writeFile(join(dir, 'b.json'), JSON.stringify({ minReleaseAgeHours: 48 }));
    const a = await resolvePolicy({ file: 'a.json', cwd: dir });
    assert.equal(a.policy.minReleaseAgeHours, 24);
    assert.equal(a.source, join(dir, 'a.json'));
    const b = await resolvePolicy({ file: 'b.json', cwd: dir });
    assert.equal(b.policy.minReleaseAgeHours, 48);
    assert.notEqual(b.version, a.version);
    const none = await resolvePolicy({ cwd: dir });
    assert.equal(none.source, 'default');
    assert.equal(none.version, defaultPolicy().version);
  });

  test('the version is the hash of the canonical policy: key order and spelled-out defaults do not change it', () => {
    const a = parsePolicyText('{"thresholds":{"review":"medium","rejected":"high"}}', 'a');
    const b = parsePolicyText(
      '{"onError":"fail-closed","thresholds":{"rejected":"high","review":"medium"},"exceptions":[]}',
      'b',
    );
    assert.equal(a.version, b.version);
    assert.match(a.version, /^[0-9a-f]{12}$/);
  });

  test('bad files are user errors naming the problem', async () => {
    await writeFile(join(dir, 'broken.json'), '{ "thresholds": ');
    await writeFile(join(dir, 'wrong.json'), JSON.stringify({ llm: { maxSteps: 0 }, onError: 'maybe' }));
    for (const [file, pattern] of [
      ['broken.json', /not valid JSON/],
      ['wrong.json', /llm\.maxSteps.*onError|onError.*llm\.maxSteps/],
      ['missing.json', /cannot read policy file .*missing\.json \(ENOENT\)/],
    ] as const) {
      await assert.rejects(loadPolicyFile(join(dir, file)), (error: unknown) => {
        assert.ok(error instanceof SecureRegistryError);
        assert.equal(error.code, 'ERR_SR_POLICY');
        assert.match(error.message, pattern);
        return true;
      });
    }
  });
});

describe('applyOpinion under the policy', () => {
  const opinion = (decision: 'approve' | 'reject' | 'escalate') => ({
    decision,
    rationale: 'because',
    evidence: [],
  });
  const defaults = LlmPolicy.parse({});
  test('defaults: reject rejects, escalate holds, approve of a held package needs a person', () => {
    assert.equal(
      applyOpinion({ ruleVerdict: 'review', opinion: opinion('reject'), policy: defaults, model: 'm' })
        .verdict,
      'rejected',
    );
    assert.equal(
      applyOpinion({ ruleVerdict: 'approved', opinion: opinion('escalate'), policy: defaults, model: 'm' })
        .verdict,
      'review',
    );
    const approve = applyOpinion({
      ruleVerdict: 'review',
      opinion: opinion('approve'),
      policy: defaults,
      model: 'm',
    });
    assert.equal(approve.verdict, 'review');
    assert.equal(approve.changed, false);
  });
  test('mayReject false keeps a rejection for a person; mayApproveFlagged approves; rules rejections stand', () => {
    const cautious = LlmPolicy.parse({ mayReject: false, mayApproveFlagged: true });
    assert.equal(
      applyOpinion({ ruleVerdict: 'review', opinion: opinion('reject'), policy: cautious, model: 'm' })
        .verdict,
      'review',
    );
    assert.equal(
      applyOpinion({ ruleVerdict: 'review', opinion: opinion('approve'), policy: cautious, model: 'm' })
        .verdict,
      'approved',
    );
    assert.equal(
      applyOpinion({ ruleVerdict: 'rejected', opinion: opinion('approve'), policy: cautious, model: 'm' })
        .verdict,
      'rejected',
    );
  });
});

describe('verdicts in the pipeline follow the configured policy and carry its version', () => {
  const upstream = new FakeUpstream();
  let integrity: string;
  before(async () => {
    await upstream.start();
    ({ integrity } = await upstream.add({
      name: 'loadsh',
      version: '1.0.0',
      files: { 'index.js': 'module.exports = {};\n' },
    }));
  });
  after(() => upstream.close());

  for (const [label, policy, expected] of [
    ['built-in policy: a typosquat (high) is held', defaultPolicy(), 'review'],
    [
      'strict policy: rejected at high',
      parsePolicyText('{"thresholds":{"rejected":"high","review":"medium"}}', 'strict.json'),
      'rejected',
    ],
  ] as const) {
    test(label, async () => {
      const server = await startTestServer({ upstream: upstream.url, policy, llm: null });
      try {
        const created = await server.json<ScanSummary>('POST', '/api/v1/scans', {
          graph: makeGraph([{ name: 'loadsh', version: '1.0.0', integrity }]),
        });
        const scan = await server.waitForScan(created.body.id);
        assert.equal(scan.packages[0]!.state, expected);
        const stored = await server.store.getArtifact({ name: 'loadsh', version: '1.0.0', integrity });
        const stamp = stored?.reports.decision as DecisionStamp;
        assert.equal(stamp.policyVersion, policy.version);
        assert.equal(stamp.policySource, policy.source);
        assert.equal(stamp.ruleSetVersion, stored?.ruleSetVersion);
      } finally {
        await server.dispose();
      }
    });
  }
});
