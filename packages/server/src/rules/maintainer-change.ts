import { metadataEvidence } from './evidence.js';
import type { Rule, RuleHit } from './types.js';

/**
 * Maintainers added since the previous version, or a publisher who was not a maintainer of the
 * previous version (an account takeover or a hand-over). A publisher rotating within the existing
 * maintainer team is normal and not reported.
 */
export const maintainerChange: Rule = {
  id: 'maintainer-change',
  description: 'New maintainers or an unfamiliar publisher since the previous version',
  evaluate(ctx) {
    const report = ctx.static;
    if (!report || report.metadata.previousVersion === undefined) return [];
    const { maintainers, previousVersion } = report.metadata;
    const hits: RuleHit[] = [];
    if (maintainers.previous !== null && maintainers.added.length > 0) {
      hits.push({
        rule: this.id,
        severity: 'medium',
        message: `maintainers changed since ${previousVersion}: added ${maintainers.added.join(', ')}${maintainers.removed.length > 0 ? `, removed ${maintainers.removed.join(', ')}` : ''}`,
        evidence: [
          metadataEvidence('maintainers', maintainers.current),
          metadataEvidence(`previous maintainers (${previousVersion})`, maintainers.previous),
        ],
      });
    }
    const { publisher, previousPublisher } = maintainers;
    if (
      publisher !== undefined &&
      previousPublisher !== undefined &&
      publisher !== previousPublisher &&
      !(maintainers.previous ?? []).includes(publisher)
    ) {
      hits.push({
        rule: this.id,
        severity: 'medium',
        message: `published by ${publisher}, who was not a maintainer of ${previousVersion} (published by ${previousPublisher})`,
        evidence: [
          metadataEvidence('_npmUser', publisher),
          metadataEvidence(`previous _npmUser (${previousVersion})`, previousPublisher),
        ],
      });
    }
    return hits;
  },
};
