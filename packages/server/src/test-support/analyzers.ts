import type { ArtifactAnalyzer, ArtifactDecision } from '../pipeline/types.js';

/**
 * A stand-in for the analysis stages in server tests that are about the server itself (queue,
 * scans, events): names starting with `evil` are rejected, `risky` held for review, others
 * approved. Counts its calls per `name@version`.
 */
export function namePatternAnalyzer(options: { delayMs?: number } = {}): ArtifactAnalyzer & {
  calls: Map<string, number>;
} {
  const calls = new Map<string, number>();
  return {
    calls,
    async analyze({ name, version, tarball }): Promise<ArtifactDecision> {
      const id = `${name}@${version}`;
      calls.set(id, (calls.get(id) ?? 0) + 1);
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      if (tarball.byteLength === 0) throw new Error('empty tarball');
      const base = { reports: { static: { bytes: tarball.byteLength } }, ruleSetVersion: 'test-1' };
      if (name.startsWith('evil')) {
        return {
          ...base,
          verdict: 'rejected',
          reason: 'test rule: evil name',
          findings: [{ rule: 'test-evil', severity: 'critical', message: 'evil package', evidence: [] }],
        };
      }
      if (name.startsWith('risky')) {
        return {
          ...base,
          verdict: 'review',
          reason: 'test rule: risky name',
          findings: [{ rule: 'test-risky', severity: 'medium', message: 'risky package', evidence: [] }],
        };
      }
      return { ...base, verdict: 'approved', reason: undefined, findings: [] };
    },
  };
}

export function throwingAnalyzer(message: string): ArtifactAnalyzer & { calls: number } {
  const analyzer = {
    calls: 0,
    async analyze(): Promise<ArtifactDecision> {
      analyzer.calls++;
      throw new Error(message);
    },
  };
  return analyzer;
}
