import type { FastifyInstance } from 'fastify';
import type { HealthResponse } from '@secure-registry/shared';
import type { Store } from '../../storage/store.js';

export function registerHealthRoutes(app: FastifyInstance, deps: { store: Store; version: string }): void {
  app.get('/healthz', async (): Promise<HealthResponse> => ({
    ok: true,
    version: deps.version,
    storage: deps.store.kind,
  }));
}
