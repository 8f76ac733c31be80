import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import { API_PREFIX, CreateScanRequest, UserError } from '@secure-registry/shared';
import type { ScanService } from '../../services/scan-service.js';
import { checkParam, formatZodIssues } from '../validation.js';

export interface ScanRouteDeps {
  scans: ScanService;
  canCreate: onRequestAsyncHookHandler;
  canRead: onRequestAsyncHookHandler;
}

export function registerScanRoutes(app: FastifyInstance, deps: ScanRouteDeps): void {
  app.post(`${API_PREFIX}/scans`, { onRequest: deps.canCreate }, async (request, reply) => {
    const parsed = CreateScanRequest.safeParse(request.body);
    if (!parsed.success) {
      throw new UserError('ERR_SR_INVALID_BODY', `invalid scan request: ${formatZodIssues(parsed.error)}`);
    }
    const summary = await deps.scans.createScan(parsed.data);
    return reply.status(201).header('location', `${API_PREFIX}/scans/${summary.id}`).send(summary);
  });

  app.get<{ Params: { id: string } }>(
    `${API_PREFIX}/scans/:id`,
    { onRequest: deps.canRead },
    async (request) => {
      checkParam('scan id', request.params.id);
      const result = await deps.scans.getScanResult(request.params.id);
      if (!result) throw new UserError('ERR_SR_SCAN_NOT_FOUND', `no scan with id ${request.params.id}`);
      return result;
    },
  );
}
