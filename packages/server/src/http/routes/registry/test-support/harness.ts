/** A real registry test server: Fastify on 127.0.0.1, SQLite store in a temp dir, real upstream. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AddressInfo } from 'node:net';
import { LocalArtifactStore } from '../../../../artifacts/artifact-store.js';
import type { ArtifactStore } from '../../../../artifacts/artifact-store.js';
import { registerErrorHandlers } from '../../../errors.js';
import { createStore } from '../../../../storage/index.js';
import type { ArtifactRecord, Store } from '../../../../storage/store.js';
import { RegistryClient } from '../../../../upstream/registry-client.js';
import { registerRegistryRoutes, registryDepsFrom } from '../index.js';
import { startUpstream } from './upstream.js';
import type { FakeUpstream } from './upstream.js';

export interface Harness {
  url: string;
  app: FastifyInstance;
  store: Store;
  artifacts: ArtifactStore;
  registry: RegistryClient;
  upstream: FakeUpstream;
  dataDir: string;
  /** Publishes name@version upstream and records a verdict (with stored bytes unless `stored: false`). */
  publish(
    name: string,
    version: string,
    options?: {
      verdict?: ArtifactRecord['verdict'] | 'none';
      reason?: string;
      stored?: boolean;
      manifest?: Record<string, unknown>;
      tags?: Record<string, string>;
      reports?: Record<string, unknown>;
    },
  ): Promise<{ bytes: Buffer; integrity: string; storagePath: string | undefined }>;
  close(): Promise<void>;
}

export async function startHarness(
  options: {
    vetOnDemand?: boolean;
    authorize?: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    packumentTtlMs?: number;
  } = {},
): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sr-registry-'));
  const store = await createStore({ dataDir });
  const artifacts = new LocalArtifactStore(dataDir);
  const upstream = await startUpstream();
  const registry = new RegistryClient({
    baseUrl: upstream.url,
    timeoutMs: 2000,
    packumentTtlMs: options.packumentTtlMs ?? 0,
  });
  const app = fastify();
  registerErrorHandlers(app);
  registerRegistryRoutes(
    app,
    registryDepsFrom({
      store,
      registry,
      artifacts,
      vetOnDemand: options.vetOnDemand,
      authorize: options.authorize,
    }),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    url,
    app,
    store,
    artifacts,
    registry,
    upstream,
    dataDir,
    async publish(name, version, publishOptions = {}) {
      const { bytes, integrity } = upstream.addVersion(name, version, {
        ...(publishOptions.manifest ? { manifest: publishOptions.manifest } : {}),
        ...(publishOptions.tags ? { tags: publishOptions.tags } : {}),
      });
      const verdict = publishOptions.verdict ?? 'approved';
      if (verdict === 'none') return { bytes, integrity, storagePath: undefined };
      const storagePath = publishOptions.stored === false ? undefined : await artifacts.put(bytes);
      await store.upsertArtifact(
        { name, version, integrity },
        {
          verdict,
          reason: publishOptions.reason,
          storagePath,
          ...(publishOptions.reports ? { reports: publishOptions.reports } : {}),
        },
      );
      return { bytes, integrity, storagePath };
    },
    async close() {
      await app.close();
      await registry.close();
      await upstream.close();
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
