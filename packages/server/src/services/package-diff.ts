/** The difference between two package tarballs: file lists and bounded unified diffs of text files. */
import { listPackageFiles } from './package-files.js';
import { unifiedDiff } from '@secure-registry/shared';

export const MAX_DIFF_TOTAL_CHARS = 64 * 1024;
export const MAX_DIFF_FILE_CHARS = 16 * 1024;
const MAX_LISTED_FILES = 500;

export interface FileDiff {
  path: string;
  status: 'added' | 'removed' | 'changed';
  /** Unified diff, possibly cut (see `truncated`); absent for binary or too-large files. */
  diff?: string;
  added?: number;
  removed?: number;
  note?: string;
  truncated?: boolean;
}

export interface PackageDiff {
  name: string;
  version: string;
  previousVersion: string | undefined;
  previousSource?: 'stored' | 'upstream';
  added: string[];
  removed: string[];
  changed: string[];
  unchangedCount: number;
  diffs: FileDiff[];
  /** True when file lists or diffs were cut to stay within the bounds. */
  truncated: boolean;
  note?: string;
}

/** Compares two tarballs; diffs are listed for changed and added text files, largest budget first-come. */
export async function diffPackages(
  ids: { name: string; version: string; previousVersion: string; source: 'stored' | 'upstream' },
  previous: Uint8Array,
  current: Uint8Array,
): Promise<PackageDiff> {
  const before = await listPackageFiles(previous);
  const after = await listPackageFiles(current);
  const added = [...after.keys()].filter((path) => !before.has(path)).sort();
  const removed = [...before.keys()].filter((path) => !after.has(path)).sort();
  const changed = [...after.keys()]
    .filter((path) => before.has(path) && before.get(path)!.sha256 !== after.get(path)!.sha256)
    .sort();
  const unchangedCount = [...after.keys()].filter(
    (path) => before.has(path) && before.get(path)!.sha256 === after.get(path)!.sha256,
  ).length;
  let budget = MAX_DIFF_TOTAL_CHARS;
  let truncated = false;
  const diffs: FileDiff[] = [];
  const candidates: { path: string; status: 'added' | 'changed' }[] = [
    ...changed.map((path) => ({ path, status: 'changed' as const })),
    ...added.map((path) => ({ path, status: 'added' as const })),
  ];
  for (const { path, status } of candidates) {
    if (budget <= 0) {
      truncated = true;
      diffs.push({ path, status, note: 'diff omitted: the output limit was reached' });
      continue;
    }
    const oldText = status === 'changed' ? before.get(path)!.text : '';
    const newText = after.get(path)!.text;
    if (oldText === undefined || newText === undefined) {
      diffs.push({ path, status, note: 'binary or too large to diff' });
      continue;
    }
    const result = unifiedDiff(oldText, newText, {
      oldPath: status === 'added' ? '/dev/null' : `a/${path}`,
      newPath: `b/${path}`,
    });
    if (result.kind === 'too-large') {
      diffs.push({ path, status, note: 'too many changed lines to diff' });
      continue;
    }
    const limit = Math.min(MAX_DIFF_FILE_CHARS, budget);
    const cut = result.text.length > limit;
    const text = cut ? `${result.text.slice(0, limit)}\n… (diff cut at ${limit} characters)\n` : result.text;
    budget -= text.length;
    if (cut) truncated = true;
    diffs.push({
      path,
      status,
      diff: text,
      added: result.added,
      removed: result.removed,
      ...(cut ? { truncated: true } : {}),
    });
  }
  const cap = (list: string[]): string[] => {
    if (list.length > MAX_LISTED_FILES) truncated = true;
    return list.slice(0, MAX_LISTED_FILES);
  };
  return {
    name: ids.name,
    version: ids.version,
    previousVersion: ids.previousVersion,
    previousSource: ids.source,
    added: cap(added),
    removed: cap(removed),
    changed: cap(changed),
    unchangedCount,
    diffs,
    truncated,
  };
}
