/**
 * A bounded line diff (LCS by dynamic programming) rendered as a unified diff. Pure. Files whose
 * line counts multiply past `maxCells` are reported as too large instead of diffed.
 */

export interface UnifiedDiffOptions {
  oldPath: string;
  newPath: string;
  /** Lines of context around each change (default 3). */
  context?: number;
  /** Largest `oldLines * newLines` diffed (default 4,000,000). */
  maxCells?: number;
}

export type DiffResult =
  { kind: 'diff'; text: string; added: number; removed: number } | { kind: 'too-large' };

type Op = { type: ' ' | '-' | '+'; line: string };

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function diffOps(a: string[], b: string[]): Op[] {
  // Common prefix and suffix first: most changes are small.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const n = midA.length;
  const m = midB.length;
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] =
        midA[i] === midB[j]
          ? lcs[(i + 1) * width + j + 1]! + 1
          : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
    }
  }
  const ops: Op[] = a.slice(0, start).map((line) => ({ type: ' ', line }));
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && midA[i] === midB[j]) {
      ops.push({ type: ' ', line: midA[i]! });
      i++;
      j++;
    } else if (i < n && (j === m || lcs[(i + 1) * width + j]! >= lcs[i * width + j + 1]!)) {
      ops.push({ type: '-', line: midA[i]! });
      i++;
    } else {
      ops.push({ type: '+', line: midB[j]! });
      j++;
    }
  }
  for (const line of a.slice(endA)) ops.push({ type: ' ', line });
  return ops;
}

/** The unified diff of two texts, or `too-large`. An empty `text` means no difference. */
export function unifiedDiff(oldText: string, newText: string, options: UnifiedDiffOptions): DiffResult {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  const context = options.context ?? 3;
  const maxCells = options.maxCells ?? 4_000_000;
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (
    suffix < a.length - prefix &&
    suffix < b.length - prefix &&
    a[a.length - 1 - suffix] === b[b.length - 1 - suffix]
  )
    suffix++;
  if ((a.length - prefix - suffix) * (b.length - prefix - suffix) > maxCells) return { kind: 'too-large' };

  const ops = diffOps(a, b);
  const changed = ops.map((op, index) => (op.type === ' ' ? -1 : index)).filter((index) => index >= 0);
  if (changed.length === 0) return { kind: 'diff', text: '', added: 0, removed: 0 };

  // Group changes whose context windows touch into hunks.
  const hunks: { from: number; to: number }[] = [];
  for (const index of changed) {
    const from = Math.max(0, index - context);
    const to = Math.min(ops.length - 1, index + context);
    const last = hunks[hunks.length - 1];
    if (last && from <= last.to + 1) last.to = Math.max(last.to, to);
    else hunks.push({ from, to });
  }
  const out = [`--- ${options.oldPath}`, `+++ ${options.newPath}`];
  // Line numbers at each op index.
  const oldLineAt: number[] = [];
  const newLineAt: number[] = [];
  let oldLine = 1;
  let newLine = 1;
  for (const op of ops) {
    oldLineAt.push(oldLine);
    newLineAt.push(newLine);
    if (op.type !== '+') oldLine++;
    if (op.type !== '-') newLine++;
  }
  let added = 0;
  let removed = 0;
  for (const hunk of hunks) {
    const slice = ops.slice(hunk.from, hunk.to + 1);
    const oldCount = slice.filter((op) => op.type !== '+').length;
    const newCount = slice.filter((op) => op.type !== '-').length;
    const oldStart = oldCount === 0 ? oldLineAt[hunk.from]! - 1 : oldLineAt[hunk.from]!;
    const newStart = newCount === 0 ? newLineAt[hunk.from]! - 1 : newLineAt[hunk.from]!;
    out.push(`@@ -${oldStart},${oldCount} +${newStart},${newCount} @@`);
    for (const op of slice) {
      out.push(`${op.type}${op.line}`);
      if (op.type === '+') added++;
      if (op.type === '-') removed++;
    }
  }
  return { kind: 'diff', text: `${out.join('\n')}\n`, added, removed };
}
