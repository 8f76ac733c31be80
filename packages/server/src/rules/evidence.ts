import type { CodeSignal, CodeSignalKind, StaticReport } from '@secure-registry/analyzer';
import type { Evidence } from '@secure-registry/shared';

/** Helpers shared by the static rules: evidence shapes and signal selection. */

const MAX_EVIDENCE = 5;

export function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export function fileEvidence(signal: CodeSignal): Evidence {
  const reach = signal.reach.install ? 'install' : signal.reach.import ? 'import' : 'unreached';
  return {
    kind: 'file',
    path: signal.file,
    line: signal.line,
    excerpt: clip(signal.excerpt),
    detail: `${signal.pattern} (${reach}${signal.count > 1 ? `, ${signal.count} occurrences` : ''})`,
  };
}

export function metadataEvidence(field: string, value: unknown): Evidence {
  return {
    kind: 'metadata',
    detail: field,
    excerpt: clip(typeof value === 'string' ? value : JSON.stringify(value)),
  };
}

export function evidenceOf(signals: CodeSignal[]): Evidence[] {
  return signals.slice(0, MAX_EVIDENCE).map(fileEvidence);
}

export function signalsOf(report: StaticReport | undefined, kind: CodeSignalKind): CodeSignal[] {
  return report ? report.code.filter((s) => s.kind === kind) : [];
}

/** Groups signals by file, keeping the report's (deterministic) order. */
export function byFile(signals: CodeSignal[]): Map<string, CodeSignal[]> {
  const out = new Map<string, CodeSignal[]>();
  for (const s of signals) out.set(s.file, [...(out.get(s.file) ?? []), s]);
  return out;
}

export function fileHas(
  report: StaticReport,
  file: string,
  kind: CodeSignalKind,
  strongOnly = false,
): CodeSignal[] {
  return report.code.filter(
    (s) => s.file === file && s.kind === kind && (!strongOnly || s.strength === 'strong'),
  );
}

export function fileList(files: string[]): string {
  const shown = files.slice(0, 3).join(', ');
  return files.length > 3 ? `${shown} and ${files.length - 3} more` : shown;
}
