import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { ScanEvent } from '@secure-registry/shared';
import type { ScanSummary } from '@secure-registry/shared';
import { namePatternAnalyzer } from '../../test-support/analyzers.js';
import { FakeUpstream } from '../../test-support/fake-upstream.js';
import { makeGraph } from '../../test-support/graph.js';
import { startTestServer } from '../../test-support/harness.js';
import type { TestServer } from '../../test-support/harness.js';
import { readSse } from '../../test-support/sse.js';

describe('scan events (SSE)', () => {
  let upstream: FakeUpstream;
  let server: TestServer;
  let graphNodes: Parameters<typeof makeGraph>[0];

  before(async () => {
    upstream = await new FakeUpstream().start();
    graphNodes = [];
    for (const name of ['alpha', 'beta', 'evil-gamma', 'delta']) {
      const built = await upstream.add({ name, version: '1.0.0' });
      // Slow tarballs keep the scan running while the stream is read.
      upstream.rules.set(upstream.tarballPath(name, '1.0.0'), { delayMs: 150 });
      graphNodes.push({
        name,
        version: '1.0.0',
        integrity: built.integrity,
        deps: name === 'delta' ? ['evil-gamma'] : [],
      });
    }
    server = await startTestServer({
      upstream: upstream.url,
      analyzer: namePatternAnalyzer(),
      heartbeatMs: 50,
    });
  });
  after(async () => {
    await server.dispose();
    await upstream.close();
  });

  test('a snapshot, then live events in sequence order, ending with scan.completed; resumable', async () => {
    const created = await server.json<ScanSummary>('POST', '/api/v1/scans', { graph: makeGraph(graphNodes) });
    assert.equal(created.status, 201);
    const url = `${server.url}/api/v1/scans/${created.body.id}/events`;
    const live = await readSse(url);
    assert.equal(live.status, 200);
    assert.match(live.contentType ?? '', /^text\/event-stream/);
    assert.ok(live.comments.includes('heartbeat'), 'heartbeats are SSE comments');

    const [first, ...rest] = live.messages;
    assert.equal(first?.event, 'scan.snapshot');
    const snapshot = ScanEvent.parse(first?.data);
    assert.equal(snapshot.type, 'scan.snapshot');
    assert.equal(snapshot.type === 'scan.snapshot' && snapshot.scan.packages.length, 4);
    const seqs = rest.map((message) => Number(message.id));
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
      'ids increase',
    );
    assert.ok(
      seqs.every((seq) => seq > Number(first?.id)),
      'live events come after the snapshot',
    );
    const events = rest.map((message) => ScanEvent.parse(message.data));
    for (const [i, message] of rest.entries()) assert.equal(message.event, events[i]?.type);
    const last = events.at(-1);
    assert.equal(last?.type, 'scan.completed');
    assert.equal(events.filter((event) => event.type === 'scan.completed').length, 1);
    const states = events.flatMap((event) =>
      event.type === 'package.state' ? [`${event.name}:${event.state}`] : [],
    );
    assert.ok(states.includes('alpha:approved'));
    const stored = (await server.store.listScanEvents(created.body.id, 0)).map((entry) => entry.event);
    const alpha = stored.flatMap((event) =>
      event.type === 'package.state' && event.name === 'alpha' ? [event.state] : [],
    );
    assert.deepEqual(alpha, ['analyzing', 'approved']);
    assert.ok(states.includes('evil-gamma:rejected'));
    assert.ok(states.includes('delta:blocked') || states.includes('delta:analyzing'));
    assert.ok(last?.type === 'scan.completed' && last.scan.counts.rejected === 1);
    const deltaIndex = states.indexOf('delta:blocked');
    if (deltaIndex !== -1) {
      const blockedEvent = events.find(
        (event) => event.type === 'package.state' && event.state === 'blocked',
      );
      assert.ok(blockedEvent?.type === 'package.state');
      assert.deepEqual(blockedEvent.blockedBy?.path, ['delta@1.0.0', 'evil-gamma@1.0.0']);
    }

    // Resume after the third stored event: exactly the stored events with a larger id, no snapshot.
    const resumeFrom = seqs[2]!;
    const resumed = await readSse(url, { headers: { 'last-event-id': String(resumeFrom) } });
    assert.deepEqual(
      resumed.messages.map((message) => Number(message.id)),
      seqs.filter((seq) => seq > resumeFrom),
    );
    assert.deepEqual(
      resumed.messages.map((message) => message.data),
      rest.filter((message) => Number(message.id) > resumeFrom).map((message) => message.data),
    );

    // A fresh connection to a completed scan: the snapshot and the completion, then the end.
    const again = await readSse(url);
    assert.deepEqual(
      again.messages.map((message) => message.event),
      ['scan.snapshot', 'scan.completed'],
    );
    // Resuming past the end closes at once.
    const past = await readSse(url, { headers: { 'last-event-id': String(seqs.at(-1)) } });
    assert.equal(past.messages.length, 0);
  });

  test('resuming mid-scan replays what was missed and continues live', async () => {
    const nodes = graphNodes.map((node) => ({ ...node, version: '2.0.0' }));
    for (const node of nodes) {
      // A version published after the packument was cached: the pipeline looks again.
      const built = await upstream.add({ name: node.name, version: '2.0.0' });
      node.integrity = built.integrity;
      upstream.rules.set(upstream.tarballPath(node.name, '2.0.0'), { delayMs: 200 });
    }
    const created = await server.json<ScanSummary>('POST', '/api/v1/scans', { graph: makeGraph(nodes) });
    const url = `${server.url}/api/v1/scans/${created.body.id}/events`;
    // Drop the connection after the first decision, then resume from it.
    const partial = await readSse(url, {
      stopAfter: (message) =>
        message.event === 'package.state' && (message.data as { state: string }).state !== 'analyzing',
    });
    const lastSeen = partial.messages.at(-1)!;
    assert.equal(lastSeen.event, 'package.state');
    const resumed = await readSse(url, { headers: { 'last-event-id': lastSeen.id! } });
    assert.equal(resumed.messages[0]?.event === 'scan.snapshot', false);
    assert.equal(Number(resumed.messages[0]?.id), Number(lastSeen.id) + 1, 'no gap, no repeat');
    assert.equal(resumed.messages.at(-1)?.event, 'scan.completed');
    const full = await server.store.listScanEvents(created.body.id, 0);
    assert.deepEqual(
      [lastSeen, ...resumed.messages].map((message) => Number(message.id)),
      full.filter((entry) => entry.seq >= Number(lastSeen.id)).map((entry) => entry.seq),
    );
  });

  test('connecting to a scan a crash left behind repairs it (decided artifacts applied, lost jobs re-enqueued)', async () => {
    const decided = { name: 'repaired', version: '1.0.0', integrity: 'sha512-cmVwYWlyZWQ=' };
    await server.store.upsertArtifact(decided, { verdict: 'approved', findings: [], reports: {} });
    const orphan = await upstream.add({ name: 'orphan', version: '1.0.0' });
    const graph = makeGraph([decided, { name: 'orphan', version: '1.0.0', integrity: orphan.integrity }]);
    const pending = (name: string, integrity: string) => ({
      key: `node_modules/${name}`,
      name,
      version: '1.0.0',
      integrity,
      source: 'registry' as const,
      dev: false,
      state: 'pending' as const,
      reason: undefined,
      findings: [],
      blockedBy: undefined,
    });
    // As a crash would leave it: the scan stored, no job for `orphan`, `repaired` decided but not applied.
    await server.store.createScan({
      id: 'crashed-scan',
      label: undefined,
      graph,
      packages: [pending('repaired', decided.integrity), pending('orphan', orphan.integrity)],
    });
    const stream = await readSse(`${server.url}/api/v1/scans/crashed-scan/events`);
    assert.equal(stream.messages.at(-1)?.event, 'scan.completed');
    const result = await server.json<{ packages: { name: string; state: string }[] }>(
      'GET',
      '/api/v1/scans/crashed-scan',
    );
    assert.deepEqual(result.body.packages.map((p) => `${p.name}:${p.state}`).sort(), [
      'orphan:approved',
      'repaired:approved',
    ]);
  });

  test('unknown scans are a JSON 404, a bad Last-Event-ID a 400', async () => {
    const missing = await server.json<{ code: string }>('GET', '/api/v1/scans/nope/events');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'ERR_SR_SCAN_NOT_FOUND');
    const created = await server.json<ScanSummary>('POST', '/api/v1/scans', {
      graph: makeGraph([{ name: 'x', version: '1.0.0', source: 'file' }]),
    });
    const bad = await server.json<{ code: string }>(
      'GET',
      `/api/v1/scans/${created.body.id}/events`,
      undefined,
      {
        'last-event-id': 'abc',
      },
    );
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'ERR_SR_BAD_LAST_EVENT_ID');
  });
});
