import { after, before, describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { ScanResult, ScanSummary } from '@secure-registry/shared';
import { issueToken } from '../http/auth.js';
import { FakeUpstream } from '../test-support/fake-upstream.js';
import { makeGraph } from '../test-support/graph.js';
import { startTestServer } from '../test-support/harness.js';
import type { TestServer } from '../test-support/harness.js';
import { parsePolicyText } from '../rules/policy-file.js';
import type { InvestigationRecord } from './investigator.js';
import { SUBMIT_OPINION } from './investigator.js';
import { openAiText, openAiToolCalls, startScriptedModel } from './test-support/scripted-model.js';
import type { ScriptedModel, ScriptStep } from './test-support/scripted-model.js';

/**
 * The investigator end to end: the real server (rules hold a typosquat for review), the real
 * OpenAI adapter, the real MCP client on the server's own `/mcp` tools, and a scripted model.
 */
describe("LLM investigator in the pipeline (scripted OpenAI endpoint, the server's /mcp)", () => {
  const upstream = new FakeUpstream();
  const INDEX = "module.exports = function expresss() { return 'fast web framework'; };\n";
  let integrity: string;
  before(async () => {
    await upstream.start();
    ({ integrity } = await upstream.add({
      name: 'expresss',
      version: '1.0.0',
      files: { 'index.js': INDEX },
    }));
  });
  after(() => upstream.close());

  async function scanWith(
    script: ScriptStep[],
    options: { auth?: 'token' } = {},
  ): Promise<{ server: TestServer; model: ScriptedModel; scan: ScanResult }> {
    const model = await startScriptedModel(script);
    const server = await startTestServer({
      upstream: upstream.url,
      llm: { provider: 'openai', baseUrl: `${model.url}/v1`, model: 'gpt-test', apiKey: 'sk-test' },
      ...(options.auth ? { auth: options.auth } : {}),
      // Five seconds per investigation: the hanging endpoint below times out soon, while a loaded
      // machine still has time for the MCP connection and the scripted model's answers.
      policy: parsePolicyText(JSON.stringify({ llm: { timeoutMs: 5000 } }), 'test'),
    });
    const headers: Record<string, string> = {};
    if (options.auth === 'token') {
      const { token } = await issueToken(server.store, { role: 'ci' });
      headers.authorization = `Bearer ${token}`;
    }
    const created = await server.json<ScanSummary>(
      'POST',
      '/api/v1/scans',
      { graph: makeGraph([{ name: 'expresss', version: '1.0.0', integrity }]) },
      headers,
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const deadline = Date.now() + 20_000;
    for (;;) {
      const { body } = await server.json<ScanResult>(
        'GET',
        `/api/v1/scans/${created.body.id}`,
        undefined,
        headers,
      );
      if (body.status !== 'running') return { server, model, scan: body };
      if (Date.now() > deadline) throw new Error('scan did not finish');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function artifact(server: TestServer) {
    const stored = await server.store.getArtifact({ name: 'expresss', version: '1.0.0', integrity });
    assert.ok(stored);
    return { stored, llm: stored.reports.llm as InvestigationRecord };
  }

  const PKG = { name: 'expresss', version: '1.0.0' };

  test('a reject opinion after real tool calls rejects the held package (token mode: internal ci token)', async () => {
    const { server, model, scan } = await scanWith(
      [
        openAiToolCalls([
          { id: 'c1', name: 'get_package_findings', args: PKG },
          { id: 'c2', name: 'read_package_file', args: { ...PKG, path: 'index.js' } },
        ]),
        openAiToolCalls([
          {
            id: 'c3',
            name: SUBMIT_OPINION,
            args: {
              decision: 'reject',
              rationale: 'a typosquat of express with no reason to exist',
              evidence: ['typosquat'],
            },
          },
        ]),
      ],
      { auth: 'token' },
    );
    try {
      assert.equal(model.requests.length, 2);
      const tools = (
        model.requests[1]!.body.messages as { role: string; tool_call_id?: string; content?: string }[]
      ).filter((m) => m.role === 'tool');
      assert.equal(tools.length, 2);
      assert.match(tools[0]!.content!, /typosquat/, 'the real findings reached the model');
      assert.match(tools[1]!.content!, /fast web framework/, 'the stored file reached the model');
      const offered = (model.requests[0]!.body.tools as { function: { name: string } }[]).map(
        (t) => t.function.name,
      );
      assert.ok(offered.includes('query_events') && offered.includes('diff_against_previous'));
      assert.ok(!offered.includes('record_decision') && !offered.includes('check_package'));

      const { stored, llm } = await artifact(server);
      assert.equal(stored.verdict, 'rejected');
      assert.match(stored.reason!, /rejected by LLM reviewer gpt-test/);
      assert.equal(llm.outcome, 'opinion');
      assert.equal(llm.steps, 2);
      assert.equal(llm.tokens.total, 240);
      assert.deepEqual(llm.errors, []);
      assert.ok(stored.findings.some((f) => f.rule === 'llm-opinion' && f.severity === 'high'));
      assert.equal(scan.packages[0]!.state, 'rejected');
      const log = await server.store.listReviewDecisions({ ...PKG, integrity });
      assert.deepEqual(
        log.map((r) => [r.reviewer, r.role, r.decision]),
        [['llm:gpt-test', 'llm', 'reject']],
      );
    } finally {
      await server.dispose();
      await model.close();
    }
  });

  test('an approve of a rule-flagged package is recorded but leaves it held for a person', async () => {
    const { server, model, scan } = await scanWith([
      openAiToolCalls([{ id: 'c1', name: 'get_package_findings', args: PKG }]),
      openAiText(
        JSON.stringify({ decision: 'approve', rationale: 'looks like a harmless fork', evidence: [] }),
      ),
    ]);
    try {
      const { stored, llm } = await artifact(server);
      assert.equal(stored.verdict, 'review');
      assert.match(stored.reason!, /a person must confirm/);
      assert.equal(llm.opinion?.decision, 'approve');
      assert.equal(scan.packages[0]!.state, 'review');
      const log = await server.store.listReviewDecisions({ ...PKG, integrity });
      assert.deepEqual(
        log.map((r) => [r.role, r.decision]),
        [['llm', 'approve']],
      );
    } finally {
      await server.dispose();
      await model.close();
    }
  });

  for (const [label, step, outcome] of [
    ['malformed output', openAiText('I am fairly sure this is fine.'), 'malformed'],
    ['a refusal', openAiText('', { refusal: 'I cannot help with that.' }), 'refused'],
    ['a provider error', { json: { error: 'overloaded' }, status: 529 }, 'error'],
    ['a timeout', { hang: true }, 'timeout'],
  ] as const) {
    test(`${label} is recorded and the package stays held`, async () => {
      const { server, model, scan } = await scanWith([step]);
      try {
        const { stored, llm } = await artifact(server);
        assert.equal(llm.outcome, outcome);
        assert.ok(llm.error);
        assert.equal(stored.verdict, 'review');
        assert.equal(scan.packages[0]!.state, 'review');
        assert.ok(stored.findings.some((f) => f.rule === 'llm-opinion' && f.message.includes(outcome)));
        assert.deepEqual(await server.store.listReviewDecisions({ ...PKG, integrity }), []);
      } finally {
        await server.dispose();
        await model.close();
      }
    });
  }
});
