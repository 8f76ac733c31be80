import type { Rule } from './types.js';

/**
 * The tarball is larger than the analysis reads (size, file count, path length or inflation ratio):
 * the analysis could not finish, which is no evidence of malice and never an approval. Held for a
 * person whatever the policy, and exceptions cannot waive it (engine.ts).
 */
export const extractionLimits: Rule = {
  id: 'extraction-limits',
  description: 'The tarball exceeds the extraction limits, so it could not be analysed',
  evaluate(ctx) {
    const issues = (ctx.static?.extraction.issues ?? []).filter((issue) => issue.kind === 'limit-exceeded');
    if (issues.length === 0) return [];
    return [
      {
        rule: this.id,
        severity: 'high',
        message:
          'the tarball exceeds the extraction limits (size, file count, path length or inflation ratio); not analysed, held for review',
        evidence: issues.slice(0, 5).map((issue) => ({
          kind: 'file' as const,
          ...(issue.path !== undefined ? { path: issue.path } : {}),
          detail: issue.detail,
        })),
        hold: true,
      },
    ];
  },
};
