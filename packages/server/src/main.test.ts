/** The built `secure-registry-server` binary as a subprocess: exit codes, tokens, kill -9 durability. */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { SERVER_NODE_FLAGS } from '@secure-registry/shared/bin-shim';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type { ScanResult, ScanSummary } from '@secure-registry/shared';
import { FakeUpstream } from './test-support/fake-upstream.js';
import { makeGraph } from './test-support/graph.js';
import { readSse } from './test-support/sse.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.js');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // SR_SANDBOX=off: these tests are about the process, not the dynamic stage (pipeline/dynamic-stage.test.ts).
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    SR_LOG_LEVEL: 'silent',
    SR_SANDBOX: process.env.SR_SANDBOX ?? 'off',
  };
  return { ...env, ...extra };
}

function run(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: baseEnv(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Starts `serve` and resolves with the URL it prints once listening. */
function startServe(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; exited: Promise<Run> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], { env: baseEnv({ SR_PORT: '0', ...env }) });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<Run>((done) =>
      child.on('close', (code, signal) => done({ code, signal, stdout, stderr })),
    );
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) resolve({ child, url: match[1]!, exited });
    });
    void exited.then((result) => reject(new Error(`server exited early: ${JSON.stringify(result)}`)));
  });
}

async function json<T>(
  url: string,
  method: 'GET' | 'POST',
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await request(url, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.statusCode, body: (await response.body.json()) as T };
}

function noStack(text: string): void {
  assert.doesNotMatch(text, /\n\s+at /, 'no stack trace');
}

describe('secure-registry-server binary', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sr-main-'));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  test('is an executable node script with --help and --version', async () => {
    assert.match(await readFile(MAIN, 'utf8'), /^#!\/usr\/bin\/env node\n/);
    const help = await run(['--help'], {});
    assert.equal(help.code, 0);
    assert.match(help.stdout, /token create --role/);
    assert.match(help.stdout, /UPSTREAM_REGISTRY/);
    const version = await run(['--version'], {});
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  });

  test('usage and configuration errors exit 2 with a clear message and no stack', async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['frobnicate'], {}, /unknown command frobnicate/],
      [[], { SR_PORT: 'eighty', SR_DATA_DIR: dataDir }, /SR_PORT: expected an integer/],
      [
        [],
        { SR_AUTH: 'none', SR_HOST: '0.0.0.0', SR_DATA_DIR: dataDir },
        /refusing to run without tokens on 0\.0\.0\.0/,
      ],
      [
        ['token', 'create', '--role', 'root'],
        { SR_DATA_DIR: dataDir },
        /--role must be one of admin, reviewer, ci/,
      ],
      [['token', 'create', '--bogus'], { SR_DATA_DIR: dataDir }, /Unknown option/],
    ];
    const results = await Promise.all(cases.map(([args, env]) => run(args, env)));
    for (const [i, [args, env, message]] of cases.entries()) {
      const result = results[i]!;
      assert.equal(result.code, 2, `${args.join(' ')} ${JSON.stringify(env)}: ${result.stderr}`);
      assert.match(result.stderr, message);
      noStack(result.stderr);
    }
  });

  test('an unreachable database or a taken port exits 3', async () => {
    const db = await run([], {
      SR_DATA_DIR: dataDir,
      SR_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      SR_AUTH: 'none',
    });
    assert.equal(db.code, 3, db.stderr);
    noStack(db.stderr);
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((blocker.address() as AddressInfo).port);
      const taken = await run([], { SR_DATA_DIR: dataDir, SR_PORT: port, SR_AUTH: 'none' });
      assert.equal(taken.code, 3, taken.stderr);
      assert.match(taken.stderr, /EADDRINUSE|in use/);
      noStack(taken.stderr);
    } finally {
      blocker.close();
    }
  });

  test('token create prints a token the server then accepts; SIGTERM stops it with 0', async () => {
    const created = await run(['token', 'create', '--role', 'ci', '--label', 'ci runner'], {
      SR_DATA_DIR: dataDir,
    });
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.match(token, /^srt_[A-Za-z0-9_-]{43}$/);
    assert.match(created.stderr, /created ci token/);
    const server = await startServe({ SR_DATA_DIR: dataDir, SR_UPSTREAM_REGISTRY: 'http://127.0.0.1:9/' });
    try {
      // The process started is the server, under the server's V8 settings (re-executed in place:
      // the same pid, so signals and kill -9 reach it).
      const cmdline = (await readFile(`/proc/${server.child.pid}/cmdline`, 'utf8')).split('\0');
      for (const flag of SERVER_NODE_FLAGS) assert.ok(cmdline.includes(flag), cmdline.join(' '));
      const body = { graph: makeGraph([{ name: 'x', version: '1.0.0', source: 'file' }]) };
      assert.equal((await json(`${server.url}/api/v1/scans`, 'POST', body)).status, 401);
      const ok = await json(`${server.url}/api/v1/scans`, 'POST', body, { authorization: `Bearer ${token}` });
      assert.equal(ok.status, 201);
    } finally {
      server.child.kill('SIGTERM');
    }
    const exit = await server.exited;
    assert.equal(exit.code, 0);
  });
});

describe('durability', () => {
  test('kill -9 mid-scan, restart on the same SR_DATA_DIR: the scan completes', async () => {
    const upstream = await new FakeUpstream().start();
    const dataDir = await mkdtemp(join(tmpdir(), 'sr-durable-'));
    const env = {
      SR_DATA_DIR: dataDir,
      SR_AUTH: 'none',
      SR_UPSTREAM_REGISTRY: upstream.url,
      SR_JOB_LEASE_MS: '1000',
      SR_CONCURRENCY: '2',
    };
    let server: Awaited<ReturnType<typeof startServe>> | undefined;
    try {
      const fast = await upstream.add({
        name: 'durable-fast',
        version: '1.0.0',
        files: { 'index.js': 'exports.a = 1;\n' },
      });
      const slow = await upstream.add({
        name: 'durable-slow',
        version: '1.0.0',
        files: { 'index.js': 'exports.b = 2;\n' },
      });
      const slowPath = upstream.tarballPath('durable-slow', '1.0.0');
      upstream.rules.set(slowPath, { delayMs: 60_000 });

      server = await startServe(env);
      const created = await json<ScanSummary>(`${server.url}/api/v1/scans`, 'POST', {
        graph: makeGraph([
          { name: 'durable-fast', version: '1.0.0', integrity: fast.integrity },
          { name: 'durable-slow', version: '1.0.0', integrity: slow.integrity },
        ]),
      });
      assert.equal(created.status, 201);
      const id = created.body.id;
      const eventsUrl = (base: string): string => `${base}/api/v1/scans/${id}/events`;
      // Follow events until the fast package is decided; by then the slow download is in flight.
      const before = await readSse(eventsUrl(server.url), {
        stopAfter: (m) => m.event === 'package.state' && (m.data as { state: string }).state === 'approved',
      });
      const lastId = before.messages.at(-1)!.id!;
      for (let i = 0; upstream.count(slowPath) === 0; i++) {
        assert.ok(i < 200, 'the slow tarball is requested');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      server.child.kill('SIGKILL');
      const killed = await server.exited;
      assert.equal(killed.signal, 'SIGKILL');

      upstream.rules.delete(slowPath);
      server = await startServe(env);
      const resumed = await readSse(eventsUrl(server.url), {
        headers: { 'last-event-id': lastId },
        timeoutMs: 20_000,
      });
      assert.equal(resumed.messages.at(-1)?.event, 'scan.completed');
      assert.equal(Number(resumed.messages[0]?.id), Number(lastId) + 1);
      const result = await json<ScanResult>(`${server.url}/api/v1/scans/${id}`, 'GET');
      assert.equal(result.body.status, 'completed');
      const states = Object.fromEntries(result.body.packages.map((p) => [p.name, p.state]));
      assert.deepEqual(states, { 'durable-fast': 'approved', 'durable-slow': 'approved' });
      assert.ok(upstream.count(slowPath) >= 2, 'the job was reclaimed and ran again after the restart');
      assert.equal(
        upstream.count(upstream.tarballPath('durable-fast', '1.0.0')),
        1,
        'finished work is not redone',
      );
    } finally {
      server?.child.kill('SIGKILL');
      if (server) await server.exited;
      await upstream.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
