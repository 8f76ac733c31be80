import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { describeResult, makeCliHome, runCli } from './support/cli.js';
import { startFixtureRegistry } from './support/fixture-registry.js';
import type { FixtureRegistry } from './support/fixture-registry.js';
import { makeProject } from './support/project.js';
import { findPackage, parseScanJson, stateOf } from './support/scan-json.js';

describe('secure-registry scan (built CLI, local mode, fixture upstream)', () => {
  let registry: FixtureRegistry;
  let tmp: string;

  before(async () => {
    registry = await startFixtureRegistry();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'sr-e2e-scan-'));
  });
  after(async () => {
    await registry.close();
    await rm(tmp, { recursive: true, force: true });
  });

  async function project(slug: string, deps: Record<string, string>): Promise<string> {
    const dir = path.join(tmp, slug);
    await makeProject(dir, deps, registry.url);
    return dir;
  }

  test('a clean project exits 0 and --json lists every package approved with its integrity', async () => {
    const dir = await project('clean', { '@fixture/logger': '^1.0.0', 'fixture-colors': '^2.0.0' });
    const home = await makeCliHome(tmp);
    const result = await runCli(['scan', dir, '--json', '--upstream', registry.url], { home });
    assert.equal(result.code, 0, describeResult(result));
    const json = parseScanJson(result);
    const expected = ['@fixture/logger@1.0.0', 'fixture-colors@2.0.0', 'fixture-strpad@1.1.0'];
    assert.deepEqual(json.packages.map((p) => `${p.name}@${p.version}`).sort(), expected);
    for (const pkg of json.packages) {
      assert.equal(stateOf(pkg), 'approved', `${pkg.name}: ${pkg.reason ?? ''}`);
      assert.equal(pkg.integrity, registry.find(pkg.name, pkg.version)?.integrity);
      assert.ok(Array.isArray(pkg.findings));
    }
  });

  test('a hijacked dependency exits 1: rejected with evidence, its dependents blocked with the path', async () => {
    const dir = await project('malicious', { 'fixture-cli-kit': '^3.1.0' });
    const home = await makeCliHome(tmp);
    const result = await runCli(['scan', dir, '--json', '--upstream', registry.url], { home });
    assert.equal(result.code, 1, describeResult(result));
    const json = parseScanJson(result);
    const bad = findPackage(json, 'fixture-termcolor', '1.0.1');
    assert.equal(stateOf(bad), 'rejected');
    assert.ok(bad.findings.length > 0);
    const withFileEvidence = bad.findings.filter((f) => f.evidence.some((e) => e.path?.endsWith('index.js')));
    assert.ok(withFileEvidence.length > 0, `no finding points at index.js: ${JSON.stringify(bad.findings)}`);
    for (const finding of bad.findings) {
      assert.ok(finding.rule && finding.severity && finding.message, JSON.stringify(finding));
    }
    const reporter = findPackage(json, 'fixture-reporter', '1.0.0');
    assert.equal(stateOf(reporter), 'blocked');
    assert.deepEqual(reporter.blockedBy?.path, ['fixture-reporter@1.0.0', 'fixture-termcolor@1.0.1']);
    const kit = findPackage(json, 'fixture-cli-kit', '3.1.0');
    assert.equal(stateOf(kit), 'blocked');
    assert.deepEqual(kit.blockedBy?.path, [
      'fixture-cli-kit@3.1.0',
      'fixture-reporter@1.0.0',
      'fixture-termcolor@1.0.1',
    ]);
    assert.equal(stateOf(findPackage(json, 'fixture-strpad', '1.1.0')), 'approved');
  });

  test('every static-signal fixture is kept out, with evidence', async () => {
    const dir = await project('signals', {
      'fixture-dropper': '2.3.1',
      'fixture-envsteal': '^1.0.0',
      expresss: '^4.18.3',
      'fixture-termcolor': '1.0.1',
    });
    const home = await makeCliHome(tmp);
    const result = await runCli(['scan', dir, '--json', '--upstream', registry.url], { home });
    assert.ok(result.code === 1 || result.code === 2, describeResult(result));
    const json = parseScanJson(result);
    for (const name of ['fixture-dropper', 'fixture-envsteal', 'expresss', 'fixture-termcolor']) {
      const pkg = findPackage(json, name);
      assert.ok(['rejected', 'review'].includes(stateOf(pkg) ?? ''), `${name} is ${stateOf(pkg)}`);
      assert.ok(pkg.findings.length > 0, `${name} has no findings`);
      assert.ok(
        pkg.findings.some((f) => f.evidence.length > 0),
        `${name}: no finding carries evidence: ${JSON.stringify(pkg.findings)}`,
      );
    }
    const dropper = findPackage(json, 'fixture-dropper');
    assert.ok(
      dropper.findings.some((f) =>
        f.evidence.some((e) => /dropper\.invalid/.test(`${e.excerpt ?? ''} ${e.detail ?? ''}`)),
      ),
      `the new install script is not in the evidence: ${JSON.stringify(dropper.findings)}`,
    );
    const envsteal = findPackage(json, 'fixture-envsteal');
    assert.ok(
      envsteal.findings.some((f) => f.evidence.some((e) => e.path?.endsWith('setup.js'))),
      `setup.js is not in the evidence: ${JSON.stringify(envsteal.findings)}`,
    );
  });

  test('a patch release that adds an install script is flagged as new since the previous version', async () => {
    const dir = await project('new-script', { 'fixture-dropper': '2.3.1' });
    const home = await makeCliHome(tmp);
    const result = await runCli(['scan', dir, '--json', '--upstream', registry.url], { home });
    assert.equal(result.code, 1, describeResult(result));
    const dropper = findPackage(parseScanJson(result), 'fixture-dropper', '2.3.1');
    assert.equal(stateOf(dropper), 'rejected');
    const rules = dropper.findings.map((f) => f.rule);
    // 2.3.0 has no `scripts` at all, as many small packages do: the postinstall is new in a patch.
    assert.ok(rules.includes('install-script-new'), `install-script-new missing: ${rules.join(', ')}`);
    assert.ok(rules.includes('maintainer-change'), `maintainer-change missing: ${rules.join(', ')}`);
  });

  test('a package held for review exits 2, with the finding that holds it', async () => {
    const dir = await project('review', { loadsh: '^1.0.0', 'fixture-strpad': '^1.1.0' });
    const home = await makeCliHome(tmp);
    const result = await runCli(['scan', dir, '--json', '--upstream', registry.url], { home });
    assert.equal(result.code, 2, describeResult(result));
    const json = parseScanJson(result);
    const squat = findPackage(json, 'loadsh', '1.0.0');
    assert.equal(stateOf(squat), 'review');
    const finding = squat.findings.find((f) => /typo/i.test(f.rule));
    assert.ok(finding, JSON.stringify(squat.findings));
    assert.match(finding.message, /lodash/);
    assert.ok(finding.evidence.length > 0);
    assert.equal(stateOf(findPackage(json, 'fixture-strpad', '1.1.0')), 'approved');
    const lenient = await runCli(
      ['scan', dir, '--json', '--fail-on', 'rejected', '--upstream', registry.url],
      {
        home,
      },
    );
    assert.equal(lenient.code, 0, describeResult(lenient));
  });

  test('a dependency that cannot be vetted exits 2 (held), with the reason', async () => {
    const local = path.join(tmp, 'local-lib');
    await mkdir(local, { recursive: true });
    await writeFile(
      path.join(local, 'package.json'),
      JSON.stringify({ name: 'local-lib', version: '0.0.1' }),
    );
    const dir = await project('held', { 'fixture-strpad': '^1.1.0', 'local-lib': 'file:../local-lib' });
    const home = await makeCliHome(tmp);
    const result = await runCli(['scan', dir, '--json', '--upstream', registry.url], { home });
    assert.equal(result.code, 2, describeResult(result));
    const json = parseScanJson(result);
    const linked = json.packages.find((p) => p.name === 'local-lib');
    assert.ok(linked, 'the file: dependency is missing from the result');
    assert.equal(stateOf(linked), 'unvettable');
    assert.match(linked.reason ?? '', /local|link|file/i);
    assert.equal(stateOf(findPackage(json, 'fixture-strpad', '1.1.0')), 'approved');
  });

  test('no lockfile and no package.json exits 3 and says how to make one', async () => {
    // (A package.json alone is resolved as npm would and scanned: lockfile-clients.test.)
    const dir = path.join(tmp, 'no-lockfile');
    await mkdir(dir, { recursive: true });
    const home = await makeCliHome(tmp);
    const result = await runCli(['scan', dir, '--upstream', registry.url], { home });
    assert.equal(result.code, 3, describeResult(result));
    const output = result.stderr + result.stdout;
    assert.match(output, /package-lock\.json/);
    assert.match(output, /npm i(nstall)?\b.*--package-lock-only|npm i(nstall)?\b/);
    assert.doesNotMatch(output, /\n\s+at .+\(.+:\d+:\d+\)/, 'printed a stack trace');
  });

  test('--sarif prints SARIF 2.1.0 with a result per finding of the rejected package', async () => {
    const dir = await project('sarif', { 'fixture-reporter': '^1.0.0' });
    const home = await makeCliHome(tmp);
    const result = await runCli(['scan', dir, '--sarif', '--upstream', registry.url], { home });
    assert.equal(result.code, 1, describeResult(result));
    const sarif = JSON.parse(result.stdout) as {
      version: string;
      $schema?: string;
      runs: {
        tool: { driver: { name: string; rules?: { id: string }[] } };
        results: { ruleId: string; level: string; message: { text: string }; locations?: unknown[] }[];
      }[];
    };
    assert.equal(sarif.version, '2.1.0');
    assert.match(sarif.$schema ?? '', /sarif/i);
    assert.equal(sarif.runs.length, 1);
    const run = sarif.runs[0]!;
    assert.ok(run.tool.driver.name);
    assert.ok(run.results.length > 0);
    const ruleIds = new Set((run.tool.driver.rules ?? []).map((r) => r.id));
    for (const r of run.results) {
      assert.ok(r.ruleId, JSON.stringify(r));
      assert.ok(['none', 'note', 'warning', 'error'].includes(r.level), r.level);
      assert.ok(r.message.text.length > 0);
      if (ruleIds.size > 0) assert.ok(ruleIds.has(r.ruleId), `${r.ruleId} not declared in tool.driver.rules`);
    }
    assert.ok(
      run.results.some((r) => r.message.text.includes('fixture-termcolor')),
      'no result names the rejected package',
    );
  });

  test('a second scan reuses the stored verdicts: no tarball is fetched again', async () => {
    const dir = await project('rescan', { 'fixture-cli-kit': '^3.1.0', '@fixture/logger': '^1.0.0' });
    const home = await makeCliHome(tmp);
    const first = await runCli(['scan', dir, '--json', '--upstream', registry.url], { home });
    assert.equal(first.code, 1, describeResult(first));
    const fetchedBefore = registry.tarballRequests().length;
    const second = await runCli(['scan', dir, '--json', '--upstream', registry.url], { home });
    assert.equal(second.code, 1, describeResult(second));
    assert.equal(registry.tarballRequests().length, fetchedBefore, 'the second scan fetched tarballs');
    const summary = (r: typeof first): string[] =>
      parseScanJson(r)
        .packages.map((p) => `${p.name}@${p.version}:${stateOf(p)}`)
        .sort();
    assert.deepEqual(summary(second), summary(first));
  });

  test('a tarball that does not match its integrity is never approved', async () => {
    const dir = await project('corrupt', { 'fixture-colors': '^2.0.0' });
    const home = await makeCliHome(tmp);
    registry.setFailure({ match: 'fixture-colors-2.0.0.tgz', kind: 'corrupt' });
    try {
      const result = await runCli(['scan', dir, '--json', '--upstream', registry.url], { home });
      assert.notEqual(result.code, 0, describeResult(result));
      const colors = findPackage(parseScanJson(result), 'fixture-colors', '2.0.0');
      assert.notEqual(stateOf(colors), 'approved');
      assert.ok(
        colors.findings.some((f) => f.severity === 'critical' && /integrity/i.test(`${f.rule} ${f.message}`)),
        JSON.stringify(colors.findings),
      );
    } finally {
      registry.setFailure(null);
    }
  });
});
