import { RemoteError, ScanEvent } from '@secure-registry/shared';
import type { DependencyGraph, ScanResult, ScanSummary } from '@secure-registry/shared';
import type { ApiClient } from '../api-client.js';
import { SseParser } from './sse.js';

export interface FollowScanOptions {
  client: ApiClient;
  graph: DependencyGraph;
  label?: string;
  /** Called for every event in order, including the first snapshot. */
  onEvent?: (event: ScanEvent) => void;
  onSubmitted?: (scan: ScanSummary) => void;
  /** Consecutive failed (re)connections tolerated before giving up. */
  maxReconnects?: number;
  /** Delay before reconnect attempt n (0-based). */
  backoffMs?: (attempt: number) => number;
}

const defaultBackoff = (attempt: number): number => Math.min(200 * 2 ** attempt, 3_000);

/**
 * Submits the graph, follows the scan's SSE stream (reconnecting with `Last-Event-ID` when the
 * connection drops) until the scan completes, then fetches the final result.
 */
export async function submitAndFollowScan(options: FollowScanOptions): Promise<ScanResult> {
  const { client } = options;
  const summary = await client.createScan({
    graph: options.graph,
    ...(options.label !== undefined ? { label: options.label } : {}),
  });
  options.onSubmitted?.(summary);
  if (summary.status === 'running') await followEvents(options, summary.id);
  const result = await client.getScan(summary.id);
  if (result.status === 'failed') {
    throw new RemoteError('ERR_SR_SCAN_FAILED', `the server reports scan ${result.id} as failed`);
  }
  return result;
}

async function followEvents(options: FollowScanOptions, id: string): Promise<void> {
  const maxReconnects = options.maxReconnects ?? 5;
  const backoff = options.backoffMs ?? defaultBackoff;
  let lastEventId: string | undefined;
  let failures = 0;
  let lastError: unknown;
  for (;;) {
    const parser = new SseParser();
    let progressed = false;
    try {
      for await (const chunk of options.client.streamEvents(id, lastEventId)) {
        for (const message of parser.push(chunk)) {
          if (message.id !== undefined) lastEventId = message.id;
          progressed = true;
          const event = decodeEvent(message.data);
          if (!event) continue;
          options.onEvent?.(event);
          if (event.type === 'scan.completed') return;
          if (event.type === 'scan.snapshot' && event.scan.status !== 'running') return;
        }
      }
      lastError = new RemoteError(
        'ERR_SR_STREAM_CLOSED',
        `the event stream of scan ${id} closed before the scan completed`,
      );
    } catch (error) {
      if (
        !(error instanceof RemoteError) ||
        error.code === 'ERR_SR_UNAUTHORIZED' ||
        error.code === 'ERR_SR_REQUEST'
      ) {
        throw error;
      }
      lastError = error;
    }
    failures = progressed ? 0 : failures + 1;
    if (failures > maxReconnects) throw lastError;
    await new Promise((resolve) => setTimeout(resolve, backoff(failures)));
  }
}

function decodeEvent(data: string): ScanEvent | undefined {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return undefined;
  }
  const parsed = ScanEvent.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
