import type { ExtractionIssueKind } from '@secure-registry/analyzer';
import type { Rule, RuleHit } from './types.js';

// limit-exceeded is not hostility: extraction-limits holds it.
const MESSAGES: Partial<Record<ExtractionIssueKind, string>> = {
  corrupt: 'the tarball is corrupt or truncated',
  'absolute-path': 'the tarball has entries with absolute paths',
  'path-escape': 'the tarball has entries that escape the package directory (..)',
  'link-outside': 'the tarball has links pointing outside the package',
  'special-file': 'the tarball contains device files or FIFOs',
  ambiguous:
    'the tarball installs different files depending on the platform or tar reader (backslashes, duplicate entries, case or Unicode collisions)',
};

/** A tarball that could not be extracted safely is hostile or broken: never installable. */
export const hostileTarball: Rule = {
  id: 'hostile-tarball',
  description: 'Path escapes, links outside, special files, ambiguity or corruption in the tarball',
  evaluate(ctx) {
    const issues = ctx.static?.extraction.issues ?? [];
    const hits: RuleHit[] = [];
    for (const kind of Object.keys(MESSAGES) as ExtractionIssueKind[]) {
      const matching = issues.filter((issue) => issue.kind === kind);
      if (matching.length === 0) continue;
      hits.push({
        rule: this.id,
        severity: 'critical',
        message: MESSAGES[kind] ?? kind,
        evidence: matching.slice(0, 5).map((issue) => ({
          kind: 'file' as const,
          ...(issue.path !== undefined ? { path: issue.path } : {}),
          detail: issue.detail,
        })),
      });
    }
    return hits;
  },
};
