import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { analyzeStatic, type StaticReport } from '@secure-registry/analyzer';
import { severityRank } from '@secure-registry/shared';
import { evaluateArtifact } from './engine.js';
import { parsePolicy } from './policy.js';
import { RULE_SET_VERSION, RULES, ruleSetVersionOf } from './registry.js';
import { baseReport, signal } from './test-support/report.js';

// The analyzer's test support (real tarballs built with `tar`, package scenarios) is not part of
// its public API; tests load it from the built workspace package.
interface Scenario {
  name: string;
  version: string;
  files: Record<string, unknown>;
  packument: unknown;
}
const supportDir = new URL('../../../analyzer/dist/static/test-support/', import.meta.url);
const { makeTarball } = (await import(new URL('make-tarball.js', supportDir).href)) as {
  makeTarball: (files: Record<string, unknown>) => Promise<Buffer>;
};
const scenarios = (await import(new URL('scenarios.js', supportDir).href)) as Record<string, Scenario> & {
  NOW: Date;
  BENIGN: Scenario[];
};
const { NOW } = scenarios;

async function reportOf(sc: Scenario): Promise<StaticReport> {
  return analyzeStatic({
    name: sc.name,
    version: sc.version,
    tarball: await makeTarball(sc.files),
    packument: sc.packument,
    now: NOW,
  });
}

async function verdictOf(sc: Scenario) {
  return evaluateArtifact({ name: sc.name, version: sc.version, static: await reportOf(sc), now: NOW });
}

describe('evaluateArtifact on real tarballs', () => {
  test('benign look-alikes are approved with nothing above low', async () => {
    for (const sc of scenarios.BENIGN) {
      const result = await verdictOf(sc);
      assert.equal(result.verdict, 'approved', `${sc.name}: ${JSON.stringify(result.findings)}`);
      for (const f of result.findings)
        assert.ok(severityRank(f.severity) <= severityRank('low'), `${sc.name}: ${f.rule} ${f.severity}`);
      assert.equal(result.reason, undefined);
    }
  });

  test('a fetch polyfill is approved with a medium browser-hook finding', async () => {
    const result = await verdictOf(scenarios.fetchPolyfill!);
    assert.equal(result.verdict, 'approved');
    assert.deepEqual(
      result.findings.map((f) => [f.rule, f.severity]),
      [['browser-hook', 'medium']],
    );
  });

  test('chalk-like obfuscated browser hook appended to the entry is rejected', async () => {
    const result = await verdictOf(scenarios.chalkLike!);
    assert.equal(result.verdict, 'rejected');
    assert.equal(result.findings[0]?.rule, 'obfuscated-browser-hook');
    assert.equal(result.reason, result.findings[0]?.message);
    const evidence = result.findings[0]?.evidence[0];
    assert.equal(evidence?.path, 'source/index.js');
    assert.equal(evidence?.line, 34);
  });

  test('worm-like postinstall reading ~/.npmrc and posting is rejected; the new patch script is high', async () => {
    const result = await verdictOf(scenarios.shaiHuludLike!);
    assert.equal(result.verdict, 'rejected');
    const rules = result.findings.map((f) => `${f.rule}:${f.severity}`);
    assert.ok(rules.includes('credential-access:critical'));
    assert.ok(rules.includes('env-dump:critical'));
    assert.ok(rules.includes('install-script-new:high'));
  });

  test('droppers and reverse shells are rejected', async () => {
    for (const sc of [scenarios.dropper!, scenarios.reverseShell!]) {
      const result = await verdictOf(sc);
      assert.equal(result.verdict, 'rejected', sc.name);
      assert.equal(result.findings[0]?.rule, 'shell-downloader');
    }
  });

  test('an install-time host beacon and an import-time env dump are held', async () => {
    const expectations: [Scenario, string][] = [
      [scenarios.beacon!, 'env-dump'],
      [scenarios.importEnvDump!, 'env-dump'],
    ];
    for (const [sc, rule] of expectations) {
      const result = await verdictOf(sc);
      assert.equal(result.verdict, 'review', sc.name);
      assert.equal(result.findings[0]?.rule, rule, sc.name);
    }
  });

  test("a young typosquat whose first release copies the target's version line (lodahs@4.17.21) is rejected", async () => {
    const result = await verdictOf(scenarios.typosquatted!);
    assert.equal(result.verdict, 'rejected');
    assert.deepEqual([result.findings[0]?.rule, result.findings[0]?.severity], ['typosquat', 'critical']);
  });

  test('the same input gives the same output', async () => {
    const report = await reportOf(scenarios.chalkLike!);
    const a = evaluateArtifact({ name: 'chalk-like', version: '5.6.1', static: report, now: NOW });
    const b = evaluateArtifact({
      name: 'chalk-like',
      version: '5.6.1',
      static: JSON.parse(JSON.stringify(report)) as StaticReport,
      now: NOW,
    });
    assert.deepEqual(a, b);
  });
});

describe('evaluateArtifact and the policy', () => {
  const medium = baseReport({ code: [signal('browser-hook', 'fetch-override', { import: true })] });
  const high = baseReport({
    typosquat: { target: 'lodash', technique: 'edit-distance' },
    metadata: { ...baseReport().metadata, versionCount: 1 },
  });

  test('default thresholds: high holds, critical rejects, medium passes', () => {
    assert.equal(
      evaluateArtifact({ name: 'demo', version: '1.0.1', static: medium, now: NOW }).verdict,
      'approved',
    );
    assert.equal(
      evaluateArtifact({ name: 'lodahs', version: '1.0.1', static: high, now: NOW }).verdict,
      'review',
    );
  });

  test('custom thresholds move the lines', () => {
    const strict = parsePolicy({ thresholds: { review: 'medium', rejected: 'high' } });
    assert.equal(
      evaluateArtifact({ name: 'demo', version: '1.0.1', static: medium, policy: strict, now: NOW }).verdict,
      'review',
    );
    assert.equal(
      evaluateArtifact({ name: 'lodahs', version: '1.0.1', static: high, policy: strict, now: NOW }).verdict,
      'rejected',
    );
  });

  test('exceptions waive matching findings until they expire', () => {
    const exception = { package: 'lodahs@^1.0.0', reason: 'internal fork, reviewed', expires: '2025-12-31' };
    const waived = evaluateArtifact({
      name: 'lodahs',
      version: '1.0.1',
      static: high,
      policy: parsePolicy({ exceptions: [exception] }),
      now: NOW,
    });
    assert.equal(waived.verdict, 'approved');
    assert.equal(waived.findings[0]?.severity, 'info');
    assert.match(waived.findings[0]?.message ?? '', /waived \(high\).*internal fork/);
    const expired = parsePolicy({ exceptions: [{ ...exception, expires: '2025-09-01' }] });
    assert.equal(
      evaluateArtifact({ name: 'lodahs', version: '1.0.1', static: high, policy: expired, now: NOW }).verdict,
      'review',
    );
    const otherRange = parsePolicy({ exceptions: [{ ...exception, package: 'lodahs@^2.0.0' }] });
    assert.equal(
      evaluateArtifact({ name: 'lodahs', version: '1.0.1', static: high, policy: otherRange, now: NOW })
        .verdict,
      'review',
    );
    const otherRule = parsePolicy({ exceptions: [{ ...exception, rules: ['install-script'] }] });
    assert.equal(
      evaluateArtifact({ name: 'lodahs', version: '1.0.1', static: high, policy: otherRule, now: NOW })
        .verdict,
      'review',
    );
  });

  test('exceptions never waive analysis errors (fail closed)', () => {
    const policy = parsePolicy({
      exceptions: [{ package: 'demo@*', reason: 'trusted', expires: '2030-01-01' }],
    });
    const result = evaluateArtifact({
      name: 'demo',
      version: '1.0.1',
      static: baseReport({ errors: ['boom'] }),
      policy,
      now: NOW,
    });
    assert.equal(result.verdict, 'review');
    assert.equal(result.findings[0]?.rule, 'analysis-error');
  });

  test('missing analysis: fail closed holds, fail open approves', () => {
    assert.equal(evaluateArtifact({ name: 'demo', version: '1.0.1', now: NOW }).verdict, 'review');
    const open = parsePolicy({ onError: 'fail-open' });
    assert.equal(
      evaluateArtifact({ name: 'demo', version: '1.0.1', policy: open, now: NOW }).verdict,
      'approved',
    );
  });

  test('minimum release age holds young releases with the hold as the reason', () => {
    const young = baseReport();
    young.metadata.ageHours = 3;
    const policy = parsePolicy({ minReleaseAgeHours: 24 });
    const result = evaluateArtifact({ name: 'demo', version: '1.0.1', static: young, policy, now: NOW });
    assert.equal(result.verdict, 'review');
    assert.match(result.reason ?? '', /younger than 24h/);
    assert.equal(
      evaluateArtifact({ name: 'demo', version: '1.0.1', static: young, now: NOW }).verdict,
      'approved',
    );
  });

  test('a throwing rule is an error finding, never an approval', () => {
    const broken = {
      id: 'broken',
      description: 'throws',
      evaluate: () => {
        throw new Error('bug');
      },
    };
    const result = evaluateArtifact({
      name: 'demo',
      version: '1.0.1',
      static: baseReport(),
      rules: [broken],
      now: NOW,
    });
    assert.equal(result.verdict, 'review');
    assert.equal(result.findings[0]?.rule, 'rule-error');
  });

  test('policy validation rejects bad documents with clear paths', () => {
    assert.throws(() => parsePolicy({ thresholds: { review: 'critical', rejected: 'high' } }), /thresholds/);
    assert.throws(
      () => parsePolicy({ exceptions: [{ package: 'no-range', reason: 'x', expires: '2030-01-01' }] }),
      /name@semver-range/,
    );
    assert.throws(
      () => parsePolicy({ exceptions: [{ package: 'a@1', reason: 'x', expires: 'someday' }] }),
      /ISO date/,
    );
    assert.throws(() => parsePolicy({ minReleaseAgeHours: -1 }));
  });

  test('rule-set and policy versions', () => {
    assert.match(RULE_SET_VERSION, /^r\d+-[0-9a-f]{8}$/);
    assert.notEqual(ruleSetVersionOf(RULES.slice(1)), RULE_SET_VERSION);
    assert.equal(ruleSetVersionOf([...RULES].reverse()), RULE_SET_VERSION);
    const a = evaluateArtifact({ name: 'demo', version: '1.0.1', static: baseReport(), now: NOW });
    const b = evaluateArtifact({
      name: 'demo',
      version: '1.0.1',
      static: baseReport(),
      policy: parsePolicy({ minReleaseAgeHours: 1 }),
      now: NOW,
    });
    assert.equal(a.ruleSetVersion, RULE_SET_VERSION);
    assert.notEqual(a.policyVersion, b.policyVersion);
    assert.equal(
      a.policyVersion,
      evaluateArtifact({
        name: 'demo',
        version: '1.0.1',
        static: baseReport(),
        policy: parsePolicy({}),
        now: NOW,
      }).policyVersion,
    );
  });
});
