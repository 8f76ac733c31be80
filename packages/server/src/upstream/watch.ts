// Pre-vetting: the server looks upstream, at an interval, for new versions of the names it has
// seen, and queues their analysis, so that the first install of a fresh release finds a verdict
// waiting instead of "not yet vetted". Replicas each watch; identical jobs are one job.
import semver from 'semver';
import { upstreamIntegrity } from '../pipeline/integrity.js';
import type { AnalysisQueue } from '../scheduler/analysis-queue.js';
import type { Store } from '../storage/store.js';
import type { Packument, RegistryClient } from './registry-client.js';
import { UpstreamHttpError } from './registry-client.js';

export interface UpstreamWatchOptions {
  store: Pick<Store, 'listArtifactNames' | 'listArtifactsByName'>;
  registry: Pick<RegistryClient, 'getPackument'>;
  queue: AnalysisQueue;
  intervalMs: number;
  /** `seen`: every name with a stored version; `approved`: names with an approved version. */
  scope: 'seen' | 'approved';
  /** New versions of one name queued per check at most (a flood of publishes is not a flood of jobs). */
  perName?: number;
  /** Packuments fetched at once. */
  concurrency?: number;
  log?: (message: string) => void;
}

export interface WatchCheck {
  names: number;
  /** `name@version`s queued for analysis. */
  queued: string[];
  /** Names whose packument could not be fetched (tried again next time). */
  errors: string[];
}

/**
 * The versions of a packument worth vetting before anyone asks: those published after the newest
 * version already stored (by the packument's `time`), and every dist-tag's version — newest first,
 * prereleases only when a dist-tag points at them, at most `limit`.
 */
export function newVersions(packument: Packument, known: ReadonlySet<string>, limit: number): string[] {
  const versions = packument.versions ?? {};
  const time = packument.time ?? {};
  const published = (version: string): number => Date.parse(time[version] ?? '') || 0;
  const newestKnown = Math.max(0, ...[...known].map(published));
  const tagged = new Set(
    Object.values((packument['dist-tags'] as Record<string, unknown> | undefined) ?? {}).filter(
      (value): value is string => typeof value === 'string',
    ),
  );
  const candidates = Object.keys(versions).filter((version) => {
    if (known.has(version) || !versions[version]) return false;
    if (tagged.has(version)) return true;
    if (semver.prerelease(version, { loose: true })) return false;
    return newestKnown > 0 && published(version) > newestKnown;
  });
  candidates.sort((a, b) => published(b) - published(a) || semver.rcompare(a, b, { loose: true }));
  return candidates.slice(0, limit);
}

export class UpstreamWatcher {
  readonly #options: UpstreamWatchOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<WatchCheck> | undefined;
  #closed = false;

  constructor(options: UpstreamWatchOptions) {
    this.#options = options;
  }

  /** Checks at the interval from now on (the first check after one interval). */
  start(): void {
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      void this.check()
        .catch((error: unknown) =>
          this.#options.log?.(
            `upstream watch failed: ${error instanceof Error ? error.message : String(error)}`,
          ),
        )
        .finally(() => this.#schedule());
    }, this.#options.intervalMs);
    this.#timer.unref();
  }

  /** One check of every watched name (a check already running is joined, not repeated). */
  check(): Promise<WatchCheck> {
    this.#running ??= this.#check().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #check(): Promise<WatchCheck> {
    const { store, registry, queue } = this.#options;
    const perName = this.#options.perName ?? 5;
    const names = await store.listArtifactNames({ approvedOnly: this.#options.scope === 'approved' });
    const result: WatchCheck = { names: names.length, queued: [], errors: [] };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < names.length && !this.#closed) {
        const name = names[next++] as string;
        let packument: Packument;
        try {
          packument = await registry.getPackument(name, { fresh: true });
        } catch (error) {
          if (!(error instanceof UpstreamHttpError && error.status === 404))
            result.errors.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
          continue;
        }
        const known = new Set((await store.listArtifactsByName(name)).map((artifact) => artifact.version));
        const jobs = newVersions(packument, known, perName).flatMap((version) => {
          const integrity = upstreamIntegrity(packument.versions?.[version]?.dist);
          return integrity ? [{ name, version, integrity }] : [];
        });
        if (jobs.length === 0) continue;
        await queue.queueAnalysis(jobs);
        result.queued.push(...jobs.map((job) => `${name}@${job.version}`));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#options.concurrency ?? 8, names.length) }, worker));
    if (result.queued.length > 0 || result.errors.length > 0)
      this.#options.log?.(
        `upstream watch: ${result.names} names, queued ${result.queued.length} new versions` +
          (result.errors.length > 0 ? `, ${result.errors.length} could not be checked` : ''),
      );
    return result;
  }

  /** Stops the interval and waits for a running check. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
  }
}
