import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CLI_BIN, startReviewServer } from './test-support/review-server.js';
import type { ReviewServer } from './test-support/review-server.js';

function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  return (result.content as { type: string; text?: string }[]).map((part) => part.text ?? '').join('\n');
}

describe('secure-registry mcp (built CLI on stdio, proxying to the server)', () => {
  let s: ReviewServer;
  const clients: Client[] = [];
  before(async () => {
    s = await startReviewServer();
  });
  after(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    await s.dispose();
  });

  async function connect(env: Record<string, string>): Promise<{ client: Client; stderr: () => string }> {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI_BIN, 'mcp'],
      env,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const client = new Client({ name: 'mcp-stdio-test', version: '1.0.0' });
    clients.push(client);
    await client.connect(transport);
    return { client, stderr: () => stderr };
  }

  test('hosted mode: lists the server tools and forwards calls with the token', async () => {
    const { client } = await connect(s.env(s.tokens.ci));
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((tool) => tool.name).sort(), [
      'check_package',
      'diff_against_previous',
      'get_behaviour_report',
      'get_package_findings',
      'get_scan_summary',
      'query_events',
      'read_package_file',
      'record_decision',
    ]);
    const findings = await client.callTool({
      name: 'get_package_findings',
      arguments: { name: 'held-a', version: '1.0.1' },
    });
    assert.equal(findings.isError, undefined, textOf(findings));
    const body = JSON.parse(textOf(findings)) as { verdict: string; findings: { rule: string }[] };
    assert.equal(body.verdict, 'review');
    assert.deepEqual(
      body.findings.map((f) => f.rule),
      ['install-script-new'],
    );
    const check = await client.callTool({
      name: 'check_package',
      arguments: { name: 'fine-c', version: '3.0.0' },
    });
    assert.equal(JSON.parse(textOf(check)).verdict, 'approved');
  });

  test('record_decision through stdio: refused with a ci token, recorded with a reviewer token', async () => {
    const args = {
      name: 'held-a',
      version: '1.0.1',
      decision: 'reject',
      reason: 'new install script reads ~/.npmrc',
    };
    const ci = await connect(s.env(s.tokens.ci));
    const refused = await ci.client.callTool({ name: 'record_decision', arguments: args });
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /refused to the role ci/);
    assert.deepEqual(await s.server.store.listReviewDecisions({ name: 'held-a' }), []);

    const reviewer = await connect(s.env(s.tokens.reviewer));
    const accepted = await reviewer.client.callTool({ name: 'record_decision', arguments: args });
    assert.equal(accepted.isError, undefined, textOf(accepted));
    assert.equal(JSON.parse(textOf(accepted)).verdict, 'rejected');
    const log = await s.server.store.listReviewDecisions({ name: 'held-a' });
    assert.equal(log.length, 1);
    assert.equal(log[0]?.reviewer, 'carol');
  });

  test('local mode: no server configured, the CLI starts one and serves its tools', async () => {
    const env = s.env(undefined);
    delete (env as Record<string, string | undefined>).SECURE_REGISTRY_SERVER;
    const { client } = await connect({ ...env, SECURE_REGISTRY_UPSTREAM: 'http://127.0.0.1:9/' });
    const { tools } = await client.listTools();
    assert.equal(tools.length, 8);
    const missing = await client.callTool({
      name: 'get_package_findings',
      arguments: { name: 'held-a', version: '1.0.1' },
    });
    assert.equal(missing.isError, true, 'the local data dir is empty');
    assert.match(textOf(missing), /no analysed artifact of held-a@1\.0\.1/);
  });

  test('a bad token: the CLI exits 3 with a message on stderr', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI_BIN, 'mcp'],
      env: s.env('srt_not-a-real-token'),
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const client = new Client({ name: 'mcp-stdio-test', version: '1.0.0' });
    const exited = new Promise<void>((resolve) => (transport.onclose = () => resolve()));
    await assert.rejects(client.connect(transport));
    await exited;
    assert.match(stderr, /mcp: the server refused/);
    assert.match(stderr, /401/);
  });
});
