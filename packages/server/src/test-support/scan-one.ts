import { strict as assert } from 'node:assert';
import { setTimeout as delay } from 'node:timers/promises';
import { request } from 'undici';
import type { ScanResult, ScanSummary } from '@secure-registry/shared';
import type { RunningServer } from '../start-server.js';
import { makeGraph } from './graph.js';

/** Submits a one-node scan to a running server and waits for it to finish (tokenless server). */
export async function scanOne(
  server: Pick<RunningServer, 'url'>,
  node: { name: string; version: string; integrity: string },
): Promise<ScanResult> {
  const created = await request(`${server.url}/api/v1/scans`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ graph: makeGraph([node]) }),
  });
  const summary = (await created.body.json()) as ScanSummary;
  assert.equal(created.statusCode, 201);
  for (let i = 0; ; i++) {
    const response = await request(`${server.url}/api/v1/scans/${summary.id}`);
    const result = (await response.body.json()) as ScanResult;
    if (result.status !== 'running') return result;
    assert.ok(i < 6000, 'the scan completes');
    await delay(20);
  }
}
