import { metadataEvidence } from './evidence.js';
import type { Rule } from './types.js';

/** The previous version was published with provenance attestations and this one without (a publish from outside CI). */
export const provenanceLost: Rule = {
  id: 'provenance-lost',
  description: 'Provenance attestations present on the previous version are missing',
  evaluate(ctx) {
    const report = ctx.static;
    if (!report?.metadata.provenance.lost) return [];
    return [
      {
        rule: this.id,
        severity: 'medium',
        message: `published without provenance, unlike ${report.metadata.previousVersion}`,
        evidence: [
          metadataEvidence('dist.attestations', 'absent'),
          metadataEvidence(`previous dist.attestations (${report.metadata.previousVersion})`, 'present'),
        ],
      },
    ];
  },
};
