import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { describeResult, makeCliHome, runCli } from './support/cli.js';
import { startFixtureRegistry } from './support/fixture-registry.js';
import type { FixtureRegistry } from './support/fixture-registry.js';
import { makeProject } from './support/project.js';
import { findPackage, parseScanJson, stateOf } from './support/scan-json.js';

// The full pipeline through the CLI, sandbox included: the install-time credential stealer runs
// in the honeypot and its egress to exfil.example (answered by the sandbox's fake internet) is
// the evidence. Needs bubblewrap and strace (installed by .ci/run).
describe('secure-registry scan with the sandbox (built CLI, local mode, fixture upstream)', () => {
  let registry: FixtureRegistry;
  let tmp: string;
  before(async () => {
    registry = await startFixtureRegistry();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'sr-e2e-sandbox-'));
  });
  after(async () => {
    await registry.close();
    await rm(tmp, { recursive: true, force: true });
  });
  /** A project with these dependencies, scanned by the built CLI with the sandbox on. */
  async function scanProject(name: string, dependencies: Record<string, string>): ReturnType<typeof runCli> {
    const dir = path.join(tmp, name);
    await makeProject(dir, dependencies, registry.url);
    const home = await makeCliHome(tmp);
    return runCli(['scan', dir, '--json', '--upstream', registry.url], {
      home,
      sandbox: true,
      timeoutMs: 300_000,
    });
  }

  test('an install-time stealer is rejected on what it did in the sandbox', async () => {
    const result = await scanProject('stealer', { 'fixture-envsteal': '^1.0.0', 'fixture-strpad': '^1.1.0' });
    assert.equal(result.code, 1, describeResult(result));
    const json = parseScanJson(result);
    const stealer = findPackage(json, 'fixture-envsteal', '1.0.0');
    assert.equal(stateOf(stealer), 'rejected');
    const behavioural = stealer.findings.filter((f) => f.evidence.some((e) => e.kind === 'event'));
    assert.ok(
      behavioural.length > 0,
      `no finding from observed behaviour: ${JSON.stringify(stealer.findings)}`,
    );
    const egress = stealer.findings.find((f) =>
      f.evidence.some((e) => /exfil\.example/.test(`${e.path ?? ''} ${e.excerpt ?? ''} ${e.detail ?? ''}`)),
    );
    assert.ok(egress, `no evidence names exfil.example: ${JSON.stringify(stealer.findings)}`);
    assert.equal(egress.severity, 'critical');
    assert.equal(stateOf(findPackage(json, 'fixture-strpad', '1.1.0')), 'approved');
  });

  test('manifest confusion: the install script the registry hides runs and is judged; publish normalisation is not confusion', async () => {
    const result = await scanProject('confusion', {
      'fixture-hidden-postinstall': '1.8.4',
      'fixture-benign-bin-normalised': '2.3.0',
    });
    assert.equal(result.code, 1, describeResult(result));
    const json = parseScanJson(result);
    const hidden = findPackage(json, 'fixture-hidden-postinstall', '1.8.4');
    assert.equal(stateOf(hidden), 'rejected', JSON.stringify(hidden.findings));
    assert.ok(
      hidden.findings.some((f) => f.rule === 'manifest-confusion'),
      JSON.stringify(hidden.findings),
    );
    assert.ok(
      hidden.findings.some((f) =>
        f.evidence.some((e) =>
          /hidden-postinstall\.test/.test(`${e.path ?? ''} ${e.excerpt ?? ''} ${e.detail ?? ''}`),
        ),
      ),
      `the hidden postinstall's POST is not in the evidence: ${JSON.stringify(hidden.findings)}`,
    );
    assert.equal(stateOf(findPackage(json, 'fixture-benign-bin-normalised', '2.3.0')), 'approved');
  });
});
