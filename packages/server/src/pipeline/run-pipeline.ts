import type { Finding } from '@secure-registry/shared';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { JobRecord } from '../storage/store.js';
import { UpstreamHttpError } from '../upstream/registry-client.js';
import type { Packument, RegistryClient } from '../upstream/registry-client.js';
import { checkIntegrity, computeIntegrity, upstreamIntegrity } from './integrity.js';
import { PermanentStageError } from './types.js';
import type { ArtifactAnalyzer, ArtifactDecision } from './types.js';

export interface PipelineDeps {
  registry: RegistryClient;
  artifacts: ArtifactStore;
  analyzer: ArtifactAnalyzer;
}

export interface PipelineResult extends ArtifactDecision {
  storagePath: string | undefined;
}

/**
 * One artifact through the stages: packument → version check → tarball download → integrity
 * (lockfile and upstream) → content-addressed store → analysis. The bytes analysed are the bytes
 * stored; nothing is fetched again after the integrity check. Throws on failures to decide.
 */
export async function runPipeline(
  job: Pick<JobRecord, 'name' | 'version' | 'integrity' | 'resolved'>,
  deps: PipelineDeps,
  signal: AbortSignal,
): Promise<PipelineResult> {
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
  if (integrityFindings.length > 0) return integrityDecision(integrityFindings, tarballUrl);

  const storagePath = await deps.artifacts.put(bytes);
  signal.throwIfAborted();
  const decision = await deps.analyzer.analyze({
    name: job.name,
    version: job.version,
    tarball: bytes,
    packument,
    signal,
  });
  return { ...decision, storagePath };
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

function integrityDecision(findings: Finding[], tarballUrl: string): PipelineResult {
  const mismatch = findings.some((finding) => finding.rule === 'integrity-mismatch');
  return {
    verdict: mismatch ? 'rejected' : 'review',
    reason: mismatch
      ? `the tarball from ${tarballUrl} does not match the expected integrity`
      : 'upstream gives no integrity to verify the tarball against',
    findings,
    reports: {},
    ruleSetVersion: undefined,
    storagePath: undefined,
  };
}

/** The fail-closed decision when the stages could not decide: held for review, never approved. */
export function analysisFailedDecision(
  error: unknown,
  attempts: number,
  /** `interrupted`: the worker kept stopping mid-analysis (the package may be what kills it). */
  kind: 'error' | 'interrupted' = 'error',
): PipelineResult {
  const message = error instanceof Error ? error.message : String(error);
  return {
    verdict: 'review',
    reason: `analysis failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${message}`,
    findings: [
      {
        rule: 'analysis-failed',
        severity: 'high',
        message: 'the artifact could not be analysed; it is held for review',
        evidence: [{ kind: 'metadata', detail: `attempts: ${attempts}`, excerpt: message.slice(0, 2000) }],
      },
    ],
    reports: { failure: { kind } },
    ruleSetVersion: undefined,
    storagePath: undefined,
  };
}
