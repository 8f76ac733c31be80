import type { Finding } from '@secure-registry/shared';

export type Label = 'malicious' | 'benign';

export interface EvalRow {
  corpus: 'fixtures' | 'npm';
  label: Label;
  /** The attack class a fixture imitates or the look-alike guards (fixtures.json `classes`); npm rows: `npm`. */
  class: string;
  name: string;
  version: string;
  installScript: boolean;
  /** The package's state in the scan: approved, rejected, review, … */
  verdict: string;
  reason: string | undefined;
  findings: Finding[];
  stages: string[];
  /** Sandbox phases that ran and how each ended. */
  phases: { phase: string; status: string }[];
  /** Why the sandbox could not run, when it could not. */
  sandboxUnavailable?: string[];
}

export interface EvalTotals {
  malicious: number;
  maliciousBlocked: number;
  maliciousRejected: number;
  benign: number;
  benignRejected: number;
  benignHeld: number;
  npm: { total: number; installScripts: number; rejected: number; held: number };
  goals: { name: string; met: boolean; detail: string }[];
}

const pct = (part: number, whole: number): string =>
  whole === 0 ? '-' : `${((100 * part) / whole).toFixed(1)}%`;

/** Totals and goals of the issue: every malicious fixture blocked, ≥ 90 % rejected; no benign rejected; ≤ 5 % held. */
export function computeTotals(rows: readonly EvalRow[]): EvalTotals {
  const malicious = rows.filter((r) => r.label === 'malicious');
  const benign = rows.filter((r) => r.label === 'benign');
  const npm = rows.filter((r) => r.corpus === 'npm');
  const blocked = malicious.filter((r) => r.verdict === 'rejected' || r.verdict === 'review').length;
  const rejected = malicious.filter((r) => r.verdict === 'rejected').length;
  const benignRejected = benign.filter((r) => r.verdict === 'rejected').length;
  const benignHeld = benign.filter((r) => r.verdict !== 'approved' && r.verdict !== 'rejected').length;
  return {
    malicious: malicious.length,
    maliciousBlocked: blocked,
    maliciousRejected: rejected,
    benign: benign.length,
    benignRejected,
    benignHeld,
    npm: {
      total: npm.length,
      installScripts: npm.filter((r) => r.installScript).length,
      rejected: npm.filter((r) => r.verdict === 'rejected').length,
      held: npm.filter((r) => r.verdict !== 'approved' && r.verdict !== 'rejected').length,
    },
    goals: [
      {
        name: 'every malicious package blocked',
        met: malicious.length > 0 && blocked === malicious.length,
        detail: `${blocked}/${malicious.length}`,
      },
      {
        name: 'at least 90% of malicious rejected outright',
        met: malicious.length > 0 && rejected / malicious.length >= 0.9,
        detail: `${rejected}/${malicious.length} (${pct(rejected, malicious.length)})`,
      },
      {
        name: 'no benign package rejected',
        met: benignRejected === 0,
        detail: `${benignRejected}/${benign.length}`,
      },
      {
        name: 'at most 5% of benign held',
        met: benign.length > 0 && benignHeld / benign.length <= 0.05,
        detail: `${benignHeld}/${benign.length} (${pct(benignHeld, benign.length)})`,
      },
    ],
  };
}

function topFinding(row: EvalRow): string {
  const top = row.findings[0];
  if (!top) return row.reason ?? '';
  return `${top.severity} ${top.rule}: ${top.message}`;
}

function cell(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat.padEnd(width);
}

/** The per-package table, malicious first, then benign; unexpected outcomes are marked with `!`. */
export function formatTable(rows: readonly EvalRow[]): string {
  const sorted = [...rows].sort(
    (a, b) =>
      a.label.localeCompare(b.label) * -1 || a.corpus.localeCompare(b.corpus) || a.name.localeCompare(b.name),
  );
  const header = `  ${cell('label', 10)} ${cell('corpus', 8)} ${cell('package', 44)} ${cell('inst', 4)} ${cell('SIMB', 4)} ${cell('verdict', 9)} top finding`;
  const lines = sorted.map((row) => {
    const unexpected = row.label === 'malicious' ? row.verdict === 'approved' : row.verdict !== 'approved';
    return `${unexpected ? '!' : ' '} ${cell(row.label, 10)} ${cell(row.corpus, 8)} ${cell(`${row.name}@${row.version}`, 44)} ${cell(row.installScript ? 'yes' : '', 4)} ${cell(stageCell(row), 4)} ${cell(row.verdict, 9)} ${cell(topFinding(row), 110)}`.trimEnd();
  });
  return [header, ...lines].join('\n');
}

const STAGES = ['static', 'install', 'import', 'browser'] as const;

/** A row's stages in a fixed-width cell: `S I M B` (static, install, import, browser); `-` not run, `!` failed. */
export function stageCell(row: EvalRow): string {
  const letter = { static: 'S', install: 'I', import: 'M', browser: 'B' } as const;
  return STAGES.map((stage) => {
    if (stage === 'static') return row.stages.includes('static') ? 'S' : '-';
    const phase = row.phases.find((p) => p.phase === stage);
    if (!phase) return '-';
    return phase.status === 'completed' ? letter[stage] : '!';
  }).join('');
}

/**
 * Which analysis stages ran: for each of static, install, import, browser, on how many packages
 * (and how the sandbox phases ended), and whether the sandbox was available at all.
 */
export function formatStages(rows: readonly EvalRow[]): string {
  const lines = [`analysis stages that ran (of ${rows.length} packages; a package runs the phases it has):`];
  const withStatic = rows.filter((row) => row.stages.includes('static')).length;
  lines.push(`  static   ${String(withStatic).padStart(4)}`);
  for (const stage of STAGES.slice(1)) {
    const statuses = new Map<string, number>();
    for (const row of rows)
      for (const phase of row.phases)
        if (phase.phase === stage) statuses.set(phase.status, (statuses.get(phase.status) ?? 0) + 1);
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    const detail = [...statuses].map(([status, count]) => `${status} ${count}`).join(', ');
    lines.push(`  ${stage.padEnd(8)} ${String(total).padStart(4)}${detail ? ` (${detail})` : ''}`);
  }
  const unavailable = rows.filter((row) => row.sandboxUnavailable !== undefined);
  const dynamic = rows.filter((row) => row.phases.length > 0).length;
  if (unavailable.length > 0)
    lines.push(
      `  WARNING: sandbox unavailable for ${unavailable.length} packages (missing ${[...new Set(unavailable.flatMap((r) => r.sandboxUnavailable ?? []))].join(', ')})`,
    );
  if (dynamic === 0)
    lines.push('  WARNING: no sandbox phase ran: these results are from static analysis only');
  return lines.join('\n');
}

export interface ClassTotals {
  class: string;
  malicious: number;
  /** Malicious rows held or rejected. */
  blocked: number;
  benign: number;
  /** Benign rows held or rejected (false positives). */
  benignBlocked: number;
  /** blocked / malicious; undefined without malicious rows. */
  recall: number | undefined;
  /** blocked / (blocked + benignBlocked); undefined when nothing was blocked. */
  precision: number | undefined;
}

const isBlocked = (row: EvalRow): boolean => row.verdict === 'rejected' || row.verdict === 'review';

/** Recall and precision per class (a blocked package is one held or rejected), classes sorted by name. */
export function computeClassTotals(rows: readonly EvalRow[]): ClassTotals[] {
  const classes = [...new Set(rows.map((r) => r.class))].sort();
  return classes.map((cls) => {
    const of = rows.filter((r) => r.class === cls);
    const malicious = of.filter((r) => r.label === 'malicious');
    const benign = of.filter((r) => r.label === 'benign');
    const blocked = malicious.filter(isBlocked).length;
    const benignBlocked = benign.filter(isBlocked).length;
    return {
      class: cls,
      malicious: malicious.length,
      blocked,
      benign: benign.length,
      benignBlocked,
      recall: malicious.length > 0 ? blocked / malicious.length : undefined,
      precision: blocked + benignBlocked > 0 ? blocked / (blocked + benignBlocked) : undefined,
    };
  });
}

export function formatClassTotals(totals: readonly ClassTotals[]): string {
  const ratio = (value: number | undefined): string => (value === undefined ? '-' : value.toFixed(2));
  const header = `  ${'class'.padEnd(24)} ${'malicious'.padStart(9)} ${'blocked'.padStart(7)} ${'recall'.padStart(6)} ${'benign'.padStart(6)} ${'held'.padStart(4)} ${'precision'.padStart(9)}`;
  const lines = totals.map(
    (t) =>
      `  ${t.class.padEnd(24)} ${String(t.malicious).padStart(9)} ${String(t.blocked).padStart(7)} ${ratio(t.recall).padStart(6)} ${String(t.benign).padStart(6)} ${String(t.benignBlocked).padStart(4)} ${ratio(t.precision).padStart(9)}`,
  );
  return ['per class (blocked = held or rejected; held = benign held or rejected):', header, ...lines].join(
    '\n',
  );
}

export function formatTotals(totals: EvalTotals): string {
  return [
    `malicious: ${totals.malicious}, blocked (rejected or held) ${totals.maliciousBlocked} (${pct(totals.maliciousBlocked, totals.malicious)}), rejected outright ${totals.maliciousRejected} (${pct(totals.maliciousRejected, totals.malicious)})`,
    `benign:    ${totals.benign}, rejected ${totals.benignRejected} (${pct(totals.benignRejected, totals.benign)}), held ${totals.benignHeld} (${pct(totals.benignHeld, totals.benign)})`,
    `  of which real npm packages: ${totals.npm.total} (${totals.npm.installScripts} with install scripts), rejected ${totals.npm.rejected}, held ${totals.npm.held} (${pct(totals.npm.held, totals.npm.total)})`,
    'goals vs results:',
    ...totals.goals.map((goal) => `  [${goal.met ? 'met ' : 'MISS'}] ${goal.name}: ${goal.detail}`),
    'reference: DataDog GuardDog reports 91.3% recall and 49 false positives on the top 1,000 npm packages.',
  ].join('\n');
}
