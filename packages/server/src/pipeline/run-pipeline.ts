import {
  ARTIFACT_REPORTS_SCHEMA_VERSION,
  type AdvisoryRecord,
  type ArtifactReports,
  type StageReports,
} from '@secure-registry/shared';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { JobRecord } from '../storage/store.js';
import { UpstreamHttpError } from '../upstream/registry-client.js';
import type { Packument, RegistryClient } from '../upstream/registry-client.js';
import type { LoadedPolicy } from '../rules/policy-file.js';
import { decide } from '../verdict/index.js';
import type { Admission } from './admission.js';
import { checkIntegrity, computeIntegrity, upstreamIntegrity } from './integrity.js';
import { inPhase, type PhaseProgressSink } from './phase-events.js';
import { PermanentStageError } from './types.js';
import type { ArtifactAnalyzer, ArtifactDecision } from './types.js';

export interface PipelineDeps {
  registry: RegistryClient;
  artifacts: ArtifactStore;
  analyzer: ArtifactAnalyzer;
  /** The verdict policy `decide()` applies to the reports. */
  policy: LoadedPolicy;
  /** The published advisories naming this version as malicious (the store's, ../advisories). */
  advisories?: (name: string, version: string) => Promise<AdvisoryRecord[]>;
  /**
   * Bounds the artifacts whose bytes are in memory (./admission.ts): a turn is taken before the
   * download and ends when the analyzer says it holds the artifact on disk only (`admitted`), or at
   * the end of the analysis. Default: unbounded.
   */
  admission?: Admission;
}

export interface PipelineResult extends ArtifactDecision {
  storagePath: string | undefined;
}

/**
 * One artifact through the stages: packument → version check → tarball download → integrity
 * (lockfile and upstream) → content-addressed store → analysis (static, dynamic: report pieces) →
 * `decide()`. The bytes analysed are the bytes stored; nothing is fetched again after the integrity
 * check. Throws on failures to analyse. Each step is reported to `progress` as it starts and ends.
 * A version a published advisory names as malicious is rejected on that alone: nothing of it is
 * downloaded or run (it may be gone upstream already).
 */
export async function runPipeline(
  job: Pick<JobRecord, 'name' | 'version' | 'integrity' | 'resolved'>,
  deps: PipelineDeps,
  signal: AbortSignal,
  progress?: PhaseProgressSink,
): Promise<PipelineResult> {
  const advisories = (await deps.advisories?.(job.name, job.version)) ?? [];
  if (advisories.length > 0) return decided({ schemaVersion: ARTIFACT_REPORTS_SCHEMA_VERSION, advisories });
  const admitted = (await deps.admission?.enter()) ?? (() => undefined);
  let storagePath: string;
  let pieces: StageReports;
  try {
    let fetched: Fetched | PipelineResult | undefined = await inPhase(
      progress,
      'fetch',
      () => fetchVerified(job, deps, signal),
      {
        ended: (result) =>
          'bytes' in result ? {} : { status: 'failed', detail: 'the tarball does not match its integrity' },
      },
    );
    if (!('bytes' in fetched)) return fetched;
    storagePath = await deps.artifacts.put(fetched.bytes);
    signal.throwIfAborted();
    const analysis = deps.analyzer.analyze({
      name: job.name,
      version: job.version,
      tarball: fetched.bytes,
      packument: fetched.packument,
      signal,
      progress,
      admitted,
    });
    // While the analysis runs (a minute, waiting for sandbox batches) this frame keeps neither the bytes
    // nor the packument: only the analyzer does, for as long as it needs them.
    fetched = undefined;
    pieces = await analysis;
  } finally {
    admitted();
  }
  const reports: ArtifactReports = { schemaVersion: ARTIFACT_REPORTS_SCHEMA_VERSION, ...pieces };
  const decision = decide({
    name: job.name,
    version: job.version,
    reports,
    policy: deps.policy,
    ruleSet: deps.analyzer.ruleSet,
  });
  return {
    verdict: decision.verdict,
    reason: decision.reason,
    findings: decision.findings,
    reports: decision.stamp ? { ...reports, decision: decision.stamp } : reports,
    ruleSetVersion: decision.ruleSetVersion,
    storagePath,
  };
}

interface Fetched {
  bytes: Buffer;
  packument: Packument;
}

/**
 * Packument, version check, tarball download and integrity (lockfile and upstream): the verified
 * bytes, or the decision on a tarball that is not the one expected.
 */
async function fetchVerified(
  job: Pick<JobRecord, 'name' | 'version' | 'integrity' | 'resolved'>,
  deps: PipelineDeps,
  signal: AbortSignal,
): Promise<Fetched | PipelineResult> {
  let packument = await fetchPackument(deps.registry, job.name, signal);
  if (!packument.versions?.[job.version]) {
    packument = await fetchPackument(deps.registry, job.name, signal, { fresh: true });
  }
  const manifest = packument.versions?.[job.version];
  if (!manifest || typeof manifest !== 'object') {
    throw new PermanentStageError(`${job.name}@${job.version} does not exist upstream`);
  }
  const tarballUrl = typeof manifest.dist?.tarball === 'string' ? manifest.dist.tarball : job.resolved;
  if (!tarballUrl)
    throw new PermanentStageError(`upstream gives no tarball URL for ${job.name}@${job.version}`);

  const bytes = await fetchTarball(deps.registry, tarballUrl, signal);
  const actual = computeIntegrity(bytes);
  const integrityFindings = checkIntegrity({
    actual,
    lockfile: job.integrity,
    upstream: upstreamIntegrity(manifest.dist),
  });
  if (integrityFindings.length > 0)
    return decided({
      schemaVersion: ARTIFACT_REPORTS_SCHEMA_VERSION,
      integrity: { tarballUrl, findings: integrityFindings },
    });
  return { bytes, packument };
}

/** The decision on reports that hold no static report (an advisory, an integrity or analysis failure). */
function decided(reports: ArtifactReports): PipelineResult {
  const { verdict, reason, findings, ruleSetVersion } = decide({ reports });
  return { verdict, reason, findings, reports, ruleSetVersion, storagePath: undefined };
}

async function fetchPackument(
  registry: RegistryClient,
  name: string,
  signal: AbortSignal,
  options: { fresh?: boolean } = {},
): Promise<Packument> {
  try {
    return await registry.getPackument(name, { signal, ...options });
  } catch (error) {
    if (error instanceof UpstreamHttpError && error.status === 404) {
      throw new PermanentStageError(`${name} does not exist upstream (404)`);
    }
    throw error;
  }
}

async function fetchTarball(registry: RegistryClient, url: string, signal: AbortSignal): Promise<Buffer> {
  try {
    return await registry.getTarball(url, { signal });
  } catch (error) {
    if (error instanceof UpstreamHttpError && error.status === 404) {
      throw new PermanentStageError(`the tarball ${url} does not exist upstream (404)`);
    }
    throw error;
  }
}

/** The fail-closed decision when the stages could not decide: held for review, never approved. */
export function analysisFailedDecision(
  error: unknown,
  attempts: number,
  /**
   * `interrupted`: the worker kept stopping mid-analysis (the package may be what kills it);
   * `infrastructure`: the upstream registry could not be fetched from (an outage);
   * `storage-full`: the server's disk or database was full.
   */
  kind: 'error' | 'interrupted' | 'infrastructure' | 'storage-full' = 'error',
): PipelineResult {
  const message = error instanceof Error ? error.message : String(error);
  return decided({
    schemaVersion: ARTIFACT_REPORTS_SCHEMA_VERSION,
    failure: { kind, attempts, message: message.slice(0, 2000) },
  });
}
