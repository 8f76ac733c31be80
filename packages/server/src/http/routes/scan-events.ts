import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import { API_PREFIX, UserError } from '@secure-registry/shared';
import type { ScanEvent } from '@secure-registry/shared';
import type { ScanEventHub } from '../../services/scan-event-hub.js';
import type { ScanService } from '../../services/scan-service.js';
import type { Store } from '../../storage/store.js';
import { checkParam } from '../validation.js';

export interface ScanEventRouteDeps {
  store: Store;
  scans: ScanService;
  hub: ScanEventHub;
  canRead: onRequestAsyncHookHandler;
  /** Interval of `: heartbeat` comments, in milliseconds. */
  heartbeatMs: number;
  /** How often the stream looks at the store without being woken (other server processes). */
  pollMs?: number;
}

/** One SSE frame. `data` is a single line of JSON. */
export function formatSseEvent(seq: number, event: ScanEvent): string {
  return `id: ${seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

function parseLastEventId(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (!/^\d{1,15}$/.test(text.trim())) {
    throw new UserError('ERR_SR_BAD_LAST_EVENT_ID', 'Last-Event-ID must be a non-negative integer');
  }
  return Number(text.trim());
}

/**
 * `GET /api/v1/scans/:id/events`: without `Last-Event-ID`, a `scan.snapshot` (its id is the last
 * stored sequence number) then live events; with `Last-Event-ID: n`, the stored events after n,
 * then live ones. The stream ends after `scan.completed`.
 */
export function registerScanEventRoutes(app: FastifyInstance, deps: ScanEventRouteDeps): void {
  app.get<{ Params: { id: string } }>(
    `${API_PREFIX}/scans/:id/events`,
    { onRequest: deps.canRead },
    async (request, reply) => {
      const scanId = request.params.id;
      checkParam('scan id', scanId);
      const resumeAfter = parseLastEventId(request.headers['last-event-id']);
      const scan = await deps.store.getScan(scanId);
      if (!scan) throw new UserError('ERR_SR_SCAN_NOT_FOUND', `no scan with id ${scanId}`);
      if (scan.status === 'running') {
        // A client (re)connecting is the moment to repair a scan a crash left behind: decisions
        // recorded but not applied, packages whose job was lost.
        deps.scans.reconcileScan(scanId, { enqueue: true }).catch((error: unknown) => {
          request.log.error(
            { err: error instanceof Error ? error.message : String(error) },
            'reconcile failed',
          );
        });
      }

      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      let closed = false;
      let wake: (() => void) | undefined;
      const poke = (): void => wake?.();
      raw.on('close', () => {
        closed = true;
        poke();
      });
      const unsubscribe = deps.hub.subscribe(scanId, poke);
      const heartbeat = setInterval(() => {
        if (!closed) raw.write(': heartbeat\n\n');
      }, deps.heartbeatMs);

      try {
        let last = resumeAfter ?? 0;
        if (resumeAfter === undefined) {
          const stored = await deps.store.listScanEvents(scanId, 0);
          last = stored.at(-1)?.seq ?? 0;
          const snapshot = await deps.scans.getScanResult(scanId);
          if (!snapshot) return;
          raw.write(formatSseEvent(last, { type: 'scan.snapshot', scan: snapshot }));
          const completed = stored.find((entry) => entry.event.type === 'scan.completed');
          if (completed) last = completed.seq - 1;
        }
        let finished = false;
        while (!closed) {
          const batch = await deps.store.listScanEvents(scanId, last);
          if (finished && batch.length === 0) return;
          for (const entry of batch) {
            if (closed) return;
            raw.write(formatSseEvent(entry.seq, entry.event));
            last = entry.seq;
            if (entry.event.type === 'scan.completed') return;
          }
          if (batch.length === 0) {
            // The status alone: a scan's graph is read once per stream, not once per wake-up
            // (with hundreds of packages finishing, that was a fifth of the server's thread).
            const status = await deps.store.getScanStatus(scanId);
            if (!status) return;
            // Completed: the log holds everything (the completion is appended before the status).
            if (status !== 'running') {
              finished = true;
              continue;
            }
            await new Promise<void>((resolve) => {
              const timer = setTimeout(done, deps.pollMs ?? 1000);
              function done(): void {
                clearTimeout(timer);
                wake = undefined;
                resolve();
              }
              wake = done;
            });
          }
        }
      } catch (error) {
        request.log.error(
          { err: error instanceof Error ? error.message : String(error) },
          'event stream failed',
        );
      } finally {
        clearInterval(heartbeat);
        unsubscribe();
        if (!closed) raw.end();
      }
    },
  );
}
