import type { Rule, RuleHit } from '../types.js';
import { fileEvidence, pathList, writesOf } from './file-writes.js';

/**
 * Writing or deleting CI configuration (`.github/workflows`, GitLab, CircleCI, …) anywhere: the
 * Shai-Hulud worm's workflow posted `toJSON(secrets)` to a webhook. No dependency has a reason to
 * edit the CI of the project that installs it: `critical`.
 */
export const ciWorkflowWrite: Rule = {
  id: 'ci-workflow-write',
  description: 'Writes to CI workflow configuration',
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    for (const report of ctx.behaviour) {
      const writes = writesOf(report, 'ci-config');
      if (writes.length === 0) continue;
      hits.push({
        rule: this.id,
        severity: 'critical',
        message: `${report.phase}: writes CI configuration (${pathList(writes)})`,
        evidence: fileEvidence(report, writes),
      });
    }
    return hits;
  },
};
