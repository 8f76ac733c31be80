import type { FastifyInstance } from 'fastify';
import type { HealthResponse } from '@secure-registry/shared';
import type { DiskSpaceMonitor } from '../../storage/disk-space.js';
import type { Store } from '../../storage/store.js';

/** `/healthz`: 200 `{ ok: true }`, or 503 `{ ok: false, reason }` while the data directory has no space. */
export function registerHealthRoutes(
  app: FastifyInstance,
  deps: { store: Store; version: string; diskSpace?: DiskSpaceMonitor | undefined },
): void {
  app.get('/healthz', async (_request, reply): Promise<HealthResponse> => {
    const base = { version: deps.version, storage: deps.store.kind };
    const disk = await deps.diskSpace?.status();
    if (disk && !disk.ok) {
      void reply.code(503);
      return { ok: false, ...base, reason: disk.reason };
    }
    return { ok: true, ...base };
  });
}
