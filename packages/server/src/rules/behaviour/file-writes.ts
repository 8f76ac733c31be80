// Helpers of the rules about files a package writes outside itself.
import type { BehaviourReport, Evidence } from '@secure-registry/shared';
import { eventEvidence, MAX_EVIDENCE } from './helpers.js';

export type FileEntry = BehaviourReport['files'][number];

export function writesOf(report: BehaviourReport, cls: FileEntry['class']): FileEntry[] {
  return report.files.filter((f) => f.class === cls && f.op !== 'read');
}

export function fileEvidence(report: BehaviourReport, files: FileEntry[]): Evidence[] {
  return files
    .slice(0, MAX_EVIDENCE)
    .map((f) => eventEvidence(report, f, { path: f.path, detail: `${f.op} (${f.class})` }));
}

export function pathList(files: FileEntry[]): string {
  const paths = [...new Set(files.map((f) => f.path))];
  return paths.slice(0, 3).join(', ') + (paths.length > 3 ? ` and ${paths.length - 3} more` : '');
}
