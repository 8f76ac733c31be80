import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFixtureRegistry } from './support/fixture-registry.js';
import type { FixtureRegistry } from './support/fixture-registry.js';
import { startServerProcess } from './support/server-process.js';
import { readSse } from './support/sse.js';
import { graphOf, postScan, waitForScan } from './support/scan-api.js';

const DECIDED = new Set(['approved', 'rejected', 'review', 'blocked', 'unvettable']);

describe('secure-registry-server as a process (fixture upstream)', () => {
  let registry: FixtureRegistry;
  let tmp: string;
  before(async () => {
    registry = await startFixtureRegistry();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'sr-e2e-server-'));
  });
  after(async () => {
    await registry.close();
    await rm(tmp, { recursive: true, force: true });
  });

  test('streams a scan over SSE to completion, resumes with Last-Event-ID, and stops on SIGTERM', async () => {
    const server = await startServerProcess({
      SR_AUTH: 'none',
      SR_DATA_DIR: path.join(tmp, 'sse'),
      SR_UPSTREAM_REGISTRY: registry.url,
      SR_BODY_LIMIT: '65536',
    });
    try {
      const graph = graphOf(
        registry,
        [
          ['fixture-reporter', '1.0.0'],
          ['fixture-termcolor', '1.0.1'],
          ['fixture-strpad', '1.1.0'],
        ],
        [
          ['', 'fixture-reporter'],
          ['', 'fixture-strpad'],
          ['fixture-reporter', 'fixture-termcolor'],
        ],
      );
      const created = await postScan(server.url, graph);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.id!;
      const frames = await readSse(`${server.url}/api/v1/scans/${id}/events`, {
        stop: (frame) => frame.event === 'scan.completed',
        timeoutMs: 60_000,
      });
      assert.equal(frames[0]?.event, 'scan.snapshot');
      assert.equal(frames.at(-1)?.event, 'scan.completed', frames.map((f) => f.event).join(','));
      const states = new Map<string, string>();
      for (const frame of frames.filter((f) => f.event === 'package.state')) {
        const event = JSON.parse(frame.data) as { name: string; state: string };
        states.set(event.name, event.state);
      }
      for (const name of ['fixture-reporter', 'fixture-termcolor', 'fixture-strpad']) {
        assert.ok(DECIDED.has(states.get(name) ?? ''), `${name} ended ${states.get(name)}`);
      }
      assert.notEqual(states.get('fixture-termcolor'), 'approved');
      assert.notEqual(states.get('fixture-reporter'), 'approved');

      // Resume after the first package event: only later events, ending with completion.
      const firstPackageFrame = frames.find((f) => f.event === 'package.state');
      assert.ok(firstPackageFrame?.id);
      const resumed = await readSse(`${server.url}/api/v1/scans/${id}/events`, {
        headers: { 'last-event-id': firstPackageFrame.id },
        stop: (frame) => frame.event === 'scan.completed',
        timeoutMs: 30_000,
      });
      assert.ok(resumed.length > 0);
      assert.ok(resumed.every((f) => Number(f.id) > Number(firstPackageFrame.id)));
      assert.equal(resumed.at(-1)?.event, 'scan.completed');
      assert.equal(resumed.filter((f) => f.event === 'scan.snapshot').length, 0);

      const verdict = (await (
        await fetch(`${server.url}/api/v1/packages/fixture-termcolor/1.0.1`)
      ).json()) as {
        integrity: string;
        verdict: string;
      };
      assert.equal(verdict.integrity, registry.find('fixture-termcolor', '1.0.1')?.integrity);
      assert.ok(verdict.verdict === 'rejected' || verdict.verdict === 'review', verdict.verdict);
      assert.ok(registry.tarballRequests().some((r) => r.url.endsWith('/fixture-termcolor-1.0.1.tgz')));

      const big = { graph: { ...(graph as object), nodes: [], edges: [] }, label: 'x'.repeat(100_000) };
      const tooBig = await fetch(`${server.url}/api/v1/scans`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(big),
      });
      assert.equal(tooBig.status, 413);
    } finally {
      server.child.kill('SIGTERM');
    }
    const exit = await server.exited;
    assert.equal(exit.code, 0, server.stderr());
  });

  test('a scan survives kill -9 of the server: restarted on the same data, it completes', async () => {
    const dataDir = path.join(tmp, 'kill9');
    const env = {
      SR_AUTH: 'none',
      SR_DATA_DIR: dataDir,
      SR_UPSTREAM_REGISTRY: registry.url,
      SR_JOB_LEASE_MS: '1000',
    };
    registry.setFailure({ match: 'fixture-colors-2.0.0.tgz', kind: 'hang' });
    const first = await startServerProcess(env);
    let id: string;
    try {
      const graph = graphOf(
        registry,
        [
          ['fixture-colors', '2.0.0'],
          ['fixture-strpad', '1.1.0'],
        ],
        [
          ['', 'fixture-colors'],
          ['fixture-colors', 'fixture-strpad'],
        ],
      );
      const created = await postScan(first.url, graph);
      assert.equal(created.status, 201);
      id = created.body.id!;
      const deadline = Date.now() + 20_000;
      while (!registry.requests.some((r) => r.url.endsWith('/fixture-colors-2.0.0.tgz'))) {
        assert.ok(Date.now() < deadline, 'the server never fetched the tarball');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      first.child.kill('SIGKILL');
    }
    await first.exited;
    registry.setFailure(null);
    const second = await startServerProcess(env);
    try {
      const scan = await waitForScan(second.url, id, 60_000);
      assert.equal(scan.status, 'completed', JSON.stringify(scan));
      for (const pkg of scan.packages) assert.ok(DECIDED.has(pkg.state), `${pkg.name} is ${pkg.state}`);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});
