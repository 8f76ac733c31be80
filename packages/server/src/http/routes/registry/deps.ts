import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ArtifactKey, Store } from '../../../storage/store.js';

/** What the registry routes need from the rest of the server. */
export interface RegistryDeps {
  store: Pick<Store, 'listArtifactsByName'>;
  /**
   * Upstream's full packument of `name` (single flight for identical concurrent fetches);
   * `undefined` when upstream has no such package (404). Throws when the upstream cannot be
   * reached or answers with an error: the routes then serve from stored approved artifacts.
   */
  getUpstreamPackument(name: string): Promise<Record<string, unknown> | undefined>;
  /** The bytes stored at `storagePath` (relative to the artifact store). ENOENT when missing. */
  readArtifact(storagePath: string): Promise<Uint8Array>;
  /** This registry's base URL as clients reach it. Default: the request's protocol and Host. */
  publicUrl?: ((request: FastifyRequest) => string) | undefined;
  /**
   * Queues analysis of a never-vetted version (vet on demand), e.g. `(job) => store.enqueueJob(job)`.
   * Unset: a never-vetted version is refused and nothing is queued.
   */
  vetOnDemand?: ((job: ArtifactKey & { resolved?: string | undefined }) => Promise<unknown>) | undefined;
  /**
   * Read access check run before every registry route but `/-/ping` (a Fastify onRequest hook such
   * as `requireRole(...)`); throws a domain error (ERR_SR_UNAUTHORIZED / ERR_SR_FORBIDDEN: 401/403 by
   * http/errors.ts) to refuse. It should set
   * `request.principal` for `/-/whoami`. Unset: reads are open and `/-/whoami` answers 401.
   */
  authorize?: ((request: FastifyRequest, reply: FastifyReply) => Promise<void>) | undefined;
  /** Bytes of verified tarballs kept in memory. Default 64 MiB; 0 disables the cache. */
  tarballCacheBytes?: number | undefined;
}
