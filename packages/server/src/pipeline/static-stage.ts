import { analyzeStatic } from '@secure-registry/analyzer';
import { inPhase } from './phase-events.js';
import type { ArtifactAnalyzer } from './types.js';

/** The first analysis stage: static and metadata signals of the tarball and its packument. */
export function createStaticAnalyzer(): ArtifactAnalyzer {
  return {
    async analyze({ name, version, tarball, packument, signal, progress }) {
      const report = await inPhase(progress, 'static', () =>
        analyzeStatic({ name, version, tarball, packument }),
      );
      signal.throwIfAborted();
      return { static: report };
    },
  };
}
