import type { ArtifactReports, Finding, StageReports, Verdict } from '@secure-registry/shared';
import type { RuleSet } from '../rules/engine.js';
import type { PhaseProgressSink } from './phase-events.js';

/** What the pipeline records for one artifact: the reports and the verdict `decide()` made of them. */
export interface ArtifactDecision {
  verdict: Exclude<Verdict, 'pending'>;
  reason: string | undefined;
  findings: Finding[];
  reports: ArtifactReports;
  ruleSetVersion: string | undefined;
}

/**
 * Analyses the bytes of one artifact: returns the stages' report pieces and judges nothing.
 * Exceptions mean "could not analyse".
 */
export interface ArtifactAnalyzer {
  analyze(input: {
    name: string;
    version: string;
    tarball: Uint8Array;
    packument: unknown;
    signal: AbortSignal;
    /** Where the stages report each step as it starts and ends (./phase-events.ts). */
    progress?: PhaseProgressSink | undefined;
    /**
     * Called once the analysis no longer holds the tarball or the packument in memory (the sandbox's
     * copy is on disk): the pipeline then admits another artifact (./admission.ts). An analyzer that
     * never calls it holds its turn until it returns.
     */
    admitted?: () => void;
  }): Promise<StageReports>;
  /**
   * The rule set that judges these reports; the full rule set when absent. Only a stand-in analyzer
   * (tests about the server, not the rules) brings its own.
   */
  ruleSet?: RuleSet;
}

/** A failure that retrying cannot fix (the version does not exist upstream, a 404). */
export class PermanentStageError extends Error {
  override readonly name = 'PermanentStageError';
}
