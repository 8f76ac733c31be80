/**
 * Shared state of the registry routes: the verified tarball reader, caches, and the lookup of
 * what is served for a name (from upstream's packument, or from the store when upstream is down).
 */
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import {
  isRecord,
  offlineServedVersion,
  readTarballManifest,
  selectOfflineArtifacts,
  selectServedVersions,
  storedManifestOf,
  upstreamIntegrityOf,
} from '../../../services/registry/index.js';
import type { JsonRecord, ServedVersion } from '../../../services/registry/index.js';
import type { ArtifactRecord } from '../../../storage/store.js';
import { ArtifactReadError, VerifiedArtifactReader } from './artifact-reader.js';
import type { RegistryDeps } from './deps.js';
import { LruCache } from './lru.js';

export interface CachedPackument {
  upstream: JsonRecord | undefined;
  fingerprint: string;
  body: string;
  etag: string;
  lastModified: Date | undefined;
}

/** What is known about a name: its records, upstream's packument (or why it is missing). */
export interface NameState {
  name: string;
  records: ArtifactRecord[];
  /** Upstream's packument; undefined when upstream is down or has no such package. */
  upstream: JsonRecord | undefined;
  /** True when upstream could not be reached: serving from the store. */
  offline: boolean;
  served: ServedVersion[];
}

export class RegistryContext {
  readonly reader: VerifiedArtifactReader;
  readonly packuments = new LruCache<CachedPackument>(64 * 1024 * 1024, 2000);
  private readonly offlineManifests = new LruCache<JsonRecord | null>(16 * 1024 * 1024, 20_000);

  constructor(readonly deps: RegistryDeps) {
    this.reader = new VerifiedArtifactReader(
      (path) => deps.readArtifact(path),
      deps.tarballCacheBytes ?? 64 * 1024 * 1024,
    );
  }

  baseUrl(request: FastifyRequest): string {
    const base = this.deps.publicUrl ? this.deps.publicUrl(request) : `${request.protocol}://${request.host}`;
    return base.endsWith('/') ? base.slice(0, -1) : base;
  }

  /** Upstream's packument: a record, `undefined` for 404, or `'down'` when it cannot be fetched. */
  async upstreamPackument(name: string, log: FastifyBaseLogger): Promise<JsonRecord | undefined | 'down'> {
    try {
      const packument = await this.deps.getUpstreamPackument(name);
      return isRecord(packument) ? packument : undefined;
    } catch (error) {
      log.warn(
        { err: error instanceof Error ? error.message : String(error), name },
        'upstream packument unavailable',
      );
      return 'down';
    }
  }

  /** The records and served versions of a name. */
  async nameState(name: string, log: FastifyBaseLogger): Promise<NameState> {
    const [records, upstream] = await Promise.all([
      this.deps.store.listArtifactsByName(name),
      this.upstreamPackument(name, log),
    ]);
    if (upstream === 'down') {
      return {
        name,
        records,
        upstream: undefined,
        offline: true,
        served: await this.offlineServed(records, log),
      };
    }
    const served = upstream ? selectServedVersions({ upstream, records }) : [];
    return { name, records, upstream, offline: false, served };
  }

  private async offlineServed(
    records: readonly ArtifactRecord[],
    log: FastifyBaseLogger,
  ): Promise<ServedVersion[]> {
    const served: ServedVersion[] = [];
    for (const artifact of selectOfflineArtifacts(records)) {
      const manifest = storedManifestOf(artifact).manifest ?? (await this.manifestFromTarball(artifact, log));
      const version = offlineServedVersion({ artifact, manifest });
      if (version) served.push(version);
    }
    return served;
  }

  private async manifestFromTarball(
    artifact: ArtifactRecord,
    log: FastifyBaseLogger,
  ): Promise<JsonRecord | undefined> {
    const key = `${artifact.storagePath ?? ''}\n${artifact.integrity}`;
    const cached = this.offlineManifests.get(key);
    if (cached !== undefined) return cached ?? undefined;
    let manifest: JsonRecord | undefined;
    try {
      manifest = await readTarballManifest(await this.reader.read(artifact));
    } catch (error) {
      if (!(error instanceof ArtifactReadError)) throw error;
      log.error({ err: error.message }, 'stored artifact not usable');
      return undefined;
    }
    this.offlineManifests.set(key, manifest ?? null, 4096);
    return manifest;
  }

  /**
   * Queues analysis of upstream's version when vetting on demand and nothing is known of it.
   * Returns true when a job was queued (or already existed).
   */
  async queueIfUnknown(input: {
    name: string;
    version: string;
    upstream: JsonRecord | undefined;
    records: readonly ArtifactRecord[];
    log: FastifyBaseLogger;
  }): Promise<boolean> {
    const vet = this.deps.vetOnDemand;
    if (!vet || !input.upstream) return false;
    if (input.records.some((record) => record.version === input.version)) return false;
    const versions = isRecord(input.upstream.versions) ? input.upstream.versions : {};
    const manifest = Object.hasOwn(versions, input.version) ? versions[input.version] : undefined;
    const integrity = upstreamIntegrityOf(manifest);
    if (!isRecord(manifest) || integrity === undefined) return false;
    const dist = isRecord(manifest.dist) ? manifest.dist : {};
    try {
      await vet({
        name: input.name,
        version: input.version,
        integrity,
        resolved: typeof dist.tarball === 'string' ? dist.tarball : undefined,
      });
      return true;
    } catch (error) {
      input.log.error(
        { err: error instanceof Error ? error.message : String(error) },
        'vet on demand: queueing failed',
      );
      return false;
    }
  }
}
