// `npm run eval -- --compare`: the same corpus scanned with the local sandbox and with the github
// executor (against the GitHub REST stand-in), verdicts side by side. Pure: rows in, comparison out.
import type { EvalRow } from './eval-report.js';

export interface VerdictPair {
  id: string;
  label: string;
  local: string;
  github: string;
  /** Phases that did not complete with each executor (`install:timeout`, …). */
  localFailed: string[];
  githubFailed: string[];
}

export interface ExecutorComparison {
  pairs: VerdictPair[];
  differing: VerdictPair[];
  /** Packages scanned by one executor only. */
  missing: string[];
}

const idOf = (row: EvalRow): string => `${row.name}@${row.version}`;
const failedPhases = (row: EvalRow | undefined): string[] =>
  (row?.phases ?? []).filter((p) => p.status !== 'completed').map((p) => `${p.phase}:${p.status}`);

export function compareVerdicts(local: readonly EvalRow[], github: readonly EvalRow[]): ExecutorComparison {
  const remote = new Map(github.map((row) => [idOf(row), row]));
  const pairs: VerdictPair[] = [];
  const missing: string[] = [];
  for (const row of local) {
    const other = remote.get(idOf(row));
    remote.delete(idOf(row));
    if (!other) {
      missing.push(idOf(row));
      continue;
    }
    pairs.push({
      id: idOf(row),
      label: row.label,
      local: row.verdict,
      github: other.verdict,
      localFailed: failedPhases(row),
      githubFailed: failedPhases(other),
    });
  }
  missing.push(...remote.keys());
  return { pairs, differing: pairs.filter((p) => p.local !== p.github), missing };
}

export function formatComparison(comparison: ExecutorComparison): string {
  const width = Math.max(7, ...comparison.pairs.map((p) => p.id.length));
  const lines = [
    `${'package'.padEnd(width)}  ${'label'.padEnd(9)}  ${'local'.padEnd(9)}  ${'github'.padEnd(9)}`,
    ...comparison.pairs.map(
      (p) =>
        `${p.id.padEnd(width)}  ${p.label.padEnd(9)}  ${p.local.padEnd(9)}  ${p.github.padEnd(9)}${
          p.local === p.github ? '' : '  DIFFERENT'
        }${
          p.localFailed.length + p.githubFailed.length > 0
            ? `  (not completed: local ${p.localFailed.join(' ') || '-'}, github ${p.githubFailed.join(' ') || '-'})`
            : ''
        }`,
    ),
    '',
    `same verdict with both executors: ${comparison.pairs.length - comparison.differing.length}/${comparison.pairs.length}` +
      (comparison.missing.length > 0 ? `; scanned by one only: ${comparison.missing.join(', ')}` : ''),
  ];
  return lines.join('\n');
}
