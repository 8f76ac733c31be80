/** Builds `RegistryDeps` from the server's own parts (store, upstream client, artifact store). */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ArtifactStore } from '../../../artifacts/artifact-store.js';
import type { Store } from '../../../storage/store.js';
import { UpstreamHttpError } from '../../../upstream/registry-client.js';
import type { RegistryClient } from '../../../upstream/registry-client.js';
import type { RegistryDeps } from './deps.js';
import { createAnalysisQueue } from '../../../scheduler/analysis-queue.js';
import type { AnalysisQueue } from '../../../scheduler/analysis-queue.js';

export interface RegistryAdapterOptions {
  store: Pick<Store, 'listArtifactsByName' | 'enqueueJob'>;
  /** Queues analyses (vet on demand); default: the store's queue, no wake-up. */
  queue?: AnalysisQueue | undefined;
  /** The upstream client; its `getPackument` is cached and single-flight. */
  registry: Pick<RegistryClient, 'getPackument'>;
  artifacts: Pick<ArtifactStore, 'read'>;
  /** Queue never-vetted versions for analysis when they are requested. */
  vetOnDemand?: boolean | undefined;
  authorize?: ((request: FastifyRequest, reply: FastifyReply) => Promise<void>) | undefined;
  publicUrl?: ((request: FastifyRequest) => string) | undefined;
  tarballCacheBytes?: number | undefined;
}

export function registryDepsFrom(options: RegistryAdapterOptions): RegistryDeps {
  return {
    store: options.store,
    async getUpstreamPackument(name) {
      try {
        return await options.registry.getPackument(name);
      } catch (error) {
        if (error instanceof UpstreamHttpError && error.status === 404) return undefined;
        throw error;
      }
    },
    readArtifact: (storagePath) => options.artifacts.read(storagePath),
    vetOnDemand: options.vetOnDemand
      ? async (job) => {
          const queue = options.queue ?? createAnalysisQueue({ store: options.store });
          const [queued] = await queue.queueAnalysis([job]);
          return queued!;
        }
      : undefined,
    authorize: options.authorize,
    publicUrl: options.publicUrl,
    tarballCacheBytes: options.tarballCacheBytes,
  };
}
