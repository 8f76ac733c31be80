// Interim: the static analysis (`analyzeStatic`, @secure-registry/analyzer) and the rule set
// (`evaluateArtifact`, ../rules) are being written; until they are wired here every artifact fails
// closed as `review` with an `analysis-failed` finding. Never an approval.
import type { ArtifactAnalyzer } from './types.js';

export function createStaticAnalyzer(): ArtifactAnalyzer {
  return {
    analyze: async () => {
      throw new Error('static analysis is not wired in this build');
    },
  };
}
