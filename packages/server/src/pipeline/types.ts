import type { Finding, Verdict } from '@secure-registry/shared';

/** The decision of the analysis stages on one artifact. */
export interface ArtifactDecision {
  verdict: Exclude<Verdict, 'pending'>;
  reason: string | undefined;
  findings: Finding[];
  /** Stage reports keyed by stage name (`static`, …). */
  reports: Record<string, unknown>;
  ruleSetVersion: string | undefined;
}

/** Analyses the bytes of one artifact and decides. Exceptions mean "could not decide". */
export interface ArtifactAnalyzer {
  analyze(input: {
    name: string;
    version: string;
    tarball: Uint8Array;
    packument: unknown;
    signal: AbortSignal;
  }): Promise<ArtifactDecision>;
}

/** A failure that retrying cannot fix (the version does not exist upstream, a 404). */
export class PermanentStageError extends Error {
  override readonly name = 'PermanentStageError';
}
