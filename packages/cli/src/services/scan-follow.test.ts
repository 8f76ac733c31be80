import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ScanEvent, ScanResult } from '@secure-registry/shared';
import { RemoteError } from '@secure-registry/shared';
import { ApiClient } from '../api-client.js';
import { submitAndFollowScan } from './scan-follow.js';

const counts = {
  total: 1,
  pending: 0,
  analyzing: 0,
  approved: 1,
  rejected: 0,
  review: 0,
  blocked: 0,
  unvettable: 0,
};
const result: ScanResult = {
  id: 's1',
  status: 'completed',
  createdAt: '2025-01-01T00:00:00Z',
  counts,
  packages: [
    {
      key: 'node_modules/a',
      name: 'a',
      version: '1.0.0',
      source: 'registry',
      dev: false,
      state: 'approved',
      findings: [],
    },
  ],
};
const graph = {
  root: {},
  nodes: [
    {
      key: 'node_modules/a',
      name: 'a',
      version: '1.0.0',
      source: 'registry' as const,
      dev: false,
      optional: false,
      peer: false,
      hasInstallScript: false,
    },
  ],
  edges: [{ from: '', to: 'node_modules/a', type: 'prod' as const }],
};

test('a dropped event stream is resumed with Last-Event-ID', async () => {
  const seenLastEventIds: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/api/v1/scans') {
      assert.equal(req.headers.authorization, 'Bearer srt_test_token_123');
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 's1',
          status: 'running',
          createdAt: result.createdAt,
          counts: { ...counts, approved: 0, pending: 1 },
        }),
      );
    } else if (req.url === '/api/v1/scans/s1/events') {
      seenLastEventIds.push(req.headers['last-event-id'] as string | undefined);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (seenLastEventIds.length === 1) {
        const event = {
          type: 'package.state',
          key: 'node_modules/a',
          name: 'a',
          version: '1.0.0',
          state: 'analyzing',
          findings: [],
          counts,
        };
        res.write(`id: 7\ndata: ${JSON.stringify(event)}\n\n`);
        setTimeout(() => res.destroy(), 20); // drop the connection mid-scan
      } else {
        res.end(
          `id: 8\ndata: ${JSON.stringify({ type: 'scan.completed', scan: { ...result, packages: undefined } })}\n\n`,
        );
      }
    } else if (req.url === '/api/v1/scans/s1') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(result));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new ApiClient({
    server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    token: 'srt_test_token_123',
  });
  const events: ScanEvent['type'][] = [];
  try {
    const final = await submitAndFollowScan({
      client,
      graph,
      onEvent: (e) => events.push(e.type),
      backoffMs: () => 10,
    });
    assert.deepEqual(final, result);
    assert.deepEqual(seenLastEventIds, [undefined, '7']);
    assert.deepEqual(events, ['package.state', 'scan.completed']);
  } finally {
    await client.close();
    server.closeAllConnections();
    server.close();
  }
});

test('an unreachable server is a RemoteError naming the URL, with the token redacted', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const client = new ApiClient({ server: `http://127.0.0.1:${port}`, token: 'srt_secret_token_456' });
  try {
    await assert.rejects(submitAndFollowScan({ client, graph }), (error: unknown) => {
      assert.ok(error instanceof RemoteError);
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
      assert.doesNotMatch(error.message, /srt_secret/);
      return true;
    });
  } finally {
    await client.close();
  }
});
