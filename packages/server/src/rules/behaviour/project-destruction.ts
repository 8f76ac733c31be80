import type { BehaviourReport } from '@secure-registry/shared';
import type { Rule, RuleHit } from '../types.js';
import { fileEvidence, type FileEntry, pathList } from './file-writes.js';
import { destroyed, locateWrites, modifiedInPlace } from './footprint.js';

/** Existing project files replaced or changed in place: from this many on, a mass rewrite. */
const MASS = 2;

/**
 * Deleting, overwriting or patching the consuming project's own files (its sources, manifest,
 * README, git metadata) — files that were there before the phase. Protestware overwrote a
 * project's README.md, package.json and sources at install; a worm patches the project's code.
 * No dependency's install or import has a reason to touch them: hook installers create new hooks
 * (`.git/hooks/pre-commit`), copiers create new files (`public/mockServiceWorker.js`), generators
 * write under node_modules. Severity grows with what was touched:
 * - any existing project file deleted, or {@link MASS} or more replaced or patched: `critical`;
 * - one existing file replaced or patched: `high` (held);
 * - `.git/config` rewritten by `git config core.hooksPath …` (a hook installer pointing git at its
 *   hooks directory, by evidence of that command): `low`.
 * CI configuration has its own rule (`ci-workflow-write`); new files are `project-write`'s.
 */
export const projectDestruction: Rule = {
  id: 'project-destruction',
  description: "Deletes, overwrites or patches the consuming project's existing files",
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    for (const report of ctx.behaviour) {
      const touched = locateWrites(report)
        .filter((l) => l.area === 'project' && l.entry.class !== 'ci-config')
        .map((l) => l.entry)
        .filter((f) => destroyed(f) || modifiedInPlace(f));
      const hooksPath = touched.filter((f) => f.path.endsWith('/.git/config') && setsHooksPath(report));
      const judged = touched.filter((f) => !hooksPath.includes(f));
      if (hooksPath.length > 0)
        hits.push({
          rule: this.id,
          severity: 'low',
          message: `${report.phase}: points git at a hooks directory (git config core.hooksPath): ${pathList(hooksPath)}`,
          evidence: fileEvidence(report, hooksPath),
        });
      if (judged.length === 0) continue;
      const deleted = judged.filter((f) => f.op === 'delete');
      const replaced = judged.filter((f) => f.op === 'write' && f.truncated === true);
      const patched = judged.filter((f) => f.op === 'write' && f.truncated !== true);
      const files = new Set(judged.map((f) => f.path)).size;
      const critical = deleted.length > 0 || files >= MASS;
      hits.push({
        rule: this.id,
        severity: critical ? 'critical' : 'high',
        message: `${report.phase}: ${describe(deleted, replaced, patched)} of the consuming project: ${pathList(judged)}`,
        evidence: fileEvidence(report, [...deleted, ...replaced, ...patched]),
      });
    }
    return hits;
  },
};

function describe(deleted: FileEntry[], replaced: FileEntry[], patched: FileEntry[]): string {
  const parts: string[] = [];
  const n = (list: FileEntry[]): string => `${list.length} existing file${list.length === 1 ? '' : 's'}`;
  if (deleted.length > 0) parts.push(`deletes ${n(deleted)}`);
  if (replaced.length > 0) parts.push(`overwrites ${n(replaced)}`);
  if (patched.length > 0) parts.push(`modifies ${n(patched)} in place`);
  return parts.join(', ');
}

function setsHooksPath(report: BehaviourReport): boolean {
  return report.processes.some((p) => {
    const i = p.argv.findIndex((a) => a === 'config');
    return i >= 0 && /(^|\/)git$/.test(p.argv[0] ?? '') && p.argv.slice(i + 1).includes('core.hooksPath');
  });
}
