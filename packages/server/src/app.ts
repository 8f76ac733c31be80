import Fastify from 'fastify';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { requireLoopbackHost, requireRole } from './http/auth.js';
import type { AuthMode } from './http/auth.js';
import { registerErrorHandlers } from './http/errors.js';
import { registerHealthRoutes } from './http/routes/health.js';
import type { DiskSpaceMonitor } from './storage/disk-space.js';
import { registerPackageRoutes } from './http/routes/packages.js';
import { registerRegistryRoutes } from './http/routes/registry/index.js';
import type { RegistryDeps } from './http/routes/registry/index.js';
import { registerScanEventRoutes } from './http/routes/scan-events.js';
import { registerReviewRoutes } from './http/routes/reviews.js';
import { registerScanRoutes } from './http/routes/scans.js';
import { registerMcpRoute } from './mcp/http-route.js';
import { registerExecutorRoutes } from './executors/github/routes.js';
import type { Transfer } from './executors/github/transfer.js';
import type { InvestigationService } from './services/investigation-service.js';
import { ReviewService } from './services/review-service.js';
import type { ScanEventHub } from './services/scan-event-hub.js';
import type { ScanService } from './services/scan-service.js';
import type { Store } from './storage/store.js';
import { SERVER_VERSION } from './version.js';

export const DEFAULT_BODY_LIMIT = 64 * 1024 * 1024;

export interface ServerDeps {
  store: Store;
  scans: ScanService;
  hub: ScanEventHub;
  auth: AuthMode;
  /** Largest accepted request body in bytes (default 64 MiB); larger ones get 413. */
  bodyLimit?: number;
  logger?: FastifyServerOptions['logger'];
  /** Interval of SSE heartbeat comments (default 15 s). */
  heartbeatMs?: number;
  /** The investigation tools; when given, MCP is served at `/mcp`. */
  investigation?: InvestigationService | undefined;
  /** The vetted npm registry's read side (packuments, tarballs, audit); served at `/`. */
  registry?: RegistryDeps | undefined;
  /** Remote runners' artifact download and result upload (the github executor), own signatures, no tokens. */
  executorTransfer?: Transfer | undefined;
  /** The data directory's free space: `/healthz` answers 503 while it is full. */
  diskSpace?: DiskSpaceMonitor | undefined;
}

/** The HTTP API over the given services. Does not listen. */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const app = Fastify({
    bodyLimit: deps.bodyLimit ?? DEFAULT_BODY_LIMIT,
    logger: deps.logger ?? false,
    // Scoped names arrive as `@scope%2fname`; parameters up to a long name plus version.
    routerOptions: { maxParamLength: 600 },
    // Open event streams must not keep `close()` waiting.
    forceCloseConnections: true,
  });
  registerErrorHandlers(app, (error) => deps.diskSpace?.noteError(error));
  // Tokenless: every route, health included, answers loopback host names only (DNS rebinding).
  if (deps.auth === 'none') app.addHook('onRequest', requireLoopbackHost);
  const auth = { store: deps.store, mode: deps.auth };
  const canRead = requireRole(auth, ['admin', 'reviewer', 'ci']);
  const canCreate = requireRole(auth, ['admin', 'ci']);

  registerHealthRoutes(app, { store: deps.store, version: SERVER_VERSION, diskSpace: deps.diskSpace });
  registerScanRoutes(app, { scans: deps.scans, canCreate, canRead });
  registerScanEventRoutes(app, {
    store: deps.store,
    scans: deps.scans,
    hub: deps.hub,
    canRead,
    heartbeatMs: deps.heartbeatMs ?? 15_000,
  });
  registerPackageRoutes(app, { store: deps.store, canRead });
  const reviews = new ReviewService({ store: deps.store, scans: deps.scans });
  registerReviewRoutes(app, { reviews, canReview: requireRole(auth, ['admin', 'reviewer']) });
  if (deps.investigation) {
    registerMcpRoute(app, { investigation: deps.investigation, reviews, canUse: canRead });
  }
  if (deps.executorTransfer) registerExecutorRoutes(app, deps.executorTransfer);
  // Last: the registry's catch-all `GET /*` must not shadow the fixed routes above.
  if (deps.registry)
    registerRegistryRoutes(app, { ...deps.registry, authorize: deps.registry.authorize ?? canRead });
  return app;
}
