import { analyzeStatic } from '@secure-registry/analyzer';
import { evaluateArtifact } from '../rules/index.js';
import type { ArtifactAnalyzer } from './types.js';

/**
 * The first analysis stage: static and metadata signals (`analyzeStatic`) judged by the rule set
 * (`evaluateArtifact`). A `pending` evaluation (nothing decided) is held for review.
 */
export function createStaticAnalyzer(): ArtifactAnalyzer {
  return {
    async analyze({ name, version, tarball, packument, signal }) {
      const report = await analyzeStatic({ name, version, tarball, packument });
      signal.throwIfAborted();
      const evaluation = evaluateArtifact({ name, version, static: report });
      const undecided = evaluation.verdict === 'pending';
      return {
        verdict: undecided ? 'review' : (evaluation.verdict as 'approved' | 'rejected' | 'review'),
        reason: undecided ? (evaluation.reason ?? 'the rules reached no decision') : evaluation.reason,
        findings: evaluation.findings,
        reports: { static: report },
        ruleSetVersion: evaluation.ruleSetVersion,
      };
    },
  };
}
