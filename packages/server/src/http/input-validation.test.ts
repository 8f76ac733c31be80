import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { ErrorBody, ScanSummary } from '@secure-registry/shared';
import { namePatternAnalyzer } from '../test-support/analyzers.js';
import { FakeUpstream } from '../test-support/fake-upstream.js';
import { makeGraph } from '../test-support/graph.js';
import { startTestServer } from '../test-support/harness.js';
import type { TestServer } from '../test-support/harness.js';

const SCANS = '/api/v1/scans';
const NUL = '\u0000';

// Issue 13 items 4 and 11: names and versions are checked by npm's rules at the boundary, and a
// NUL byte anywhere is a 400 on both databases (PostgreSQL used to answer 500, SQLite stored it).
for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`input validation over ${backend}`, () => {
    let upstream: FakeUpstream;
    let server: TestServer;

    before(async () => {
      upstream = await new FakeUpstream().start();
      await upstream.add({ name: 'good', version: '1.0.0', files: { 'index.js': 'module.exports = 1;\n' } });
      server = await startTestServer({ backend, upstream: upstream.url, analyzer: namePatternAnalyzer() });
    });
    after(async () => {
      await server.dispose();
      await upstream.close();
    });

    const postScan = (nodes: Parameters<typeof makeGraph>[0], label?: string) =>
      server.json<ErrorBody & ScanSummary>('POST', SCANS, {
        graph: makeGraph(nodes),
        ...(label !== undefined ? { label } : {}),
      });

    for (const name of ['..', '../../etc/passwd', '%2e%2e', `good${NUL}`, 'node_modules', '']) {
      test(`a registry node named ${JSON.stringify(name)} is refused with 400 naming the node`, async () => {
        const response = await postScan([
          { name: 'good', version: '1.0.0' },
          { name, version: '1.0.0' },
        ]);
        assert.equal(response.status, 400, JSON.stringify(response.body));
        assert.equal(response.body.code, 'ERR_SR_INVALID_BODY');
        assert.match(response.body.error, /graph\.nodes\[1\]\.name: /);
      });
    }

    test('the message quotes the bad name and says it is not an npm package name', async () => {
      const response = await postScan([{ name: '../../etc/passwd', version: '1.0.0' }]);
      assert.equal(response.status, 400);
      assert.match(
        response.body.error,
        /graph\.nodes\[0\]\.name: "\.\.\/\.\.\/etc\/passwd" is not a valid npm package name/,
      );
    });

    for (const version of ['latest', '1.0', '../1.0.0', `1.0.0${NUL}`, '^1.0.0']) {
      test(`a registry node at version ${JSON.stringify(version)} is refused with 400`, async () => {
        const response = await postScan([{ name: 'good', version }]);
        assert.equal(response.status, 400, JSON.stringify(response.body));
        assert.match(response.body.error, /graph\.nodes\[0\]\.version: /);
      });
    }

    test('git, file and link nodes keep their non-semver versions and folder names', async () => {
      const response = await postScan([
        { name: 'good', version: '1.0.0' },
        { name: 'from-git', version: 'git+ssh://git@example.test/x.git#abc', source: 'git' },
        { name: 'My_Workspace Dir', version: '0.0.0-dev', source: 'link', resolved: 'file:packages/x' },
        { name: 'JSONStream', version: '1.3.5' },
      ]);
      assert.equal(response.status, 201, JSON.stringify(response.body));
      assert.equal(response.body.counts.total, 4);
      // Settle the scan here: its analyses would otherwise go on under the next tests (the flaky
      // failure of stop 16 was one of them finishing under the 404 case below).
      await server.waitForScan(response.body.id);
    });

    test('a NUL byte in a non-registry node, an edge or the label is a 400', async () => {
      const git = await postScan([{ name: `x${NUL}`, version: '1', source: 'git' }]);
      assert.equal(git.status, 400, JSON.stringify(git.body));
      assert.match(git.body.error, /graph\.nodes\[0\]\.name: must not contain a NUL byte/);
      const label = await postScan([{ name: 'good', version: '1.0.0' }], `demo${NUL}`);
      assert.equal(label.status, 400, JSON.stringify(label.body));
      assert.match(label.body.error, /label: must not contain a NUL byte/);
      const graph = makeGraph([{ name: 'good', version: '1.0.0' }]);
      graph.edges.push({ from: `node_modules/good${NUL}`, to: 'node_modules/good', type: 'prod' });
      const edge = await server.json<ErrorBody>('POST', SCANS, { graph });
      assert.equal(edge.status, 400, JSON.stringify(edge.body));
      assert.match(edge.body.error, /graph\.edges\[1\]\.from: must not contain a NUL byte/);
    });

    test('route parameters: a NUL scan id or version, and an invalid package name, are 400', async () => {
      for (const path of [
        `${SCANS}/%00`,
        `${SCANS}/abc%00def/events`,
        '/api/v1/packages/good/1.0.0%00',
        '/api/v1/packages/good/1.0.0?integrity=sha512-%00',
        '/api/v1/packages/..%2F..%2Fetc%2Fpasswd/1.0.0',
        '/api/v1/packages/%252e%252e/1.0.0',
      ]) {
        const response = await server.json<ErrorBody>('GET', path);
        assert.equal(response.status, 400, `${path}: ${JSON.stringify(response.body)}`);
      }
      // A version no test scans (good@1.0.0 is analysed by the git/file/link test's scan).
      const unknown = await server.json<ErrorBody>('GET', '/api/v1/packages/good/9.9.9');
      assert.equal(unknown.status, 404);
    });

    test('a review decision with a bad name, version or a NUL reason is a 400', async () => {
      for (const body of [
        { name: '..', version: '1.0.0', decision: 'approve', reason: 'ok' },
        { name: 'good', version: 'latest', decision: 'approve', reason: 'ok' },
        { name: 'good', version: '1.0.0', decision: 'approve', reason: `ok${NUL}` },
        { name: 'good', version: '1.0.0', decision: 'approve', reason: 'ok', evidence: [`e${NUL}`] },
      ]) {
        const response = await server.json<ErrorBody>('POST', '/api/v1/reviews', body);
        assert.equal(response.status, 400, `${JSON.stringify(body)}: ${JSON.stringify(response.body)}`);
      }
    });
  });
}
