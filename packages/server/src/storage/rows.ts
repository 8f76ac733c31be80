/**
 * Pure conversions between database rows and the records of the `Store` contract, and the merge
 * rule of `upsertArtifact`.
 */
import type {
  BlockedBy,
  Finding,
  Role,
  ScanStatus,
  SourceKind,
  Verdict,
  PackageState,
} from '@secure-registry/shared';
import type { ArtifactsTable, JobsTable, ScanPackagesTable, ScansTable, TokensTable } from './schema.js';
import type {
  ArtifactKey,
  ArtifactPatch,
  ArtifactRecord,
  JobRecord,
  JobStatus,
  ScanPackageRecord,
  ScanRecord,
  TokenRecord,
} from './store.js';

const opt = <T>(value: T | null): T | undefined => (value === null ? undefined : value);
const nul = <T>(value: T | undefined): T | null => (value === undefined ? null : value);

export function artifactFromRow(row: ArtifactsTable): ArtifactRecord {
  return {
    name: row.name,
    version: row.version,
    integrity: row.integrity,
    verdict: row.verdict as Verdict,
    reason: opt(row.reason),
    findings: JSON.parse(row.findings) as Finding[],
    reports: JSON.parse(row.reports) as Record<string, unknown>,
    ruleSetVersion: opt(row.rule_set_version),
    storagePath: opt(row.storage_path),
    decidedAt: opt(row.decided_at),
    createdAt: row.created_at,
  };
}

export function isDecided(verdict: Verdict): boolean {
  return verdict !== 'pending';
}

/**
 * Applies an `upsertArtifact` patch to the stored row (see the rule on `Store.upsertArtifact`):
 * absent fields keep their value; `pending` never replaces a decided verdict; `reports` merge by
 * stage name (reports with a schema version — a whole analysis — replace the previous analysis); a newly decided verdict gets `decidedAt = now` unless the patch gives one.
 */
/** What a new analysis replaces (see `ArtifactReports` in @secure-registry/shared; `dynamic` is an old shape's). */
const REPLACED_BY_ANALYSIS = [
  'schemaVersion',
  'integrity',
  'static',
  'install',
  'import',
  'browser',
  'dynamic',
  'sandbox',
  'failure',
  'decision',
  'llm',
];

export function mergeArtifactPatch(
  current: ArtifactsTable,
  patch: ArtifactPatch,
  now: string,
): ArtifactsTable {
  const next: ArtifactsTable = { ...current, updated_at: now };
  const currentVerdict = current.verdict as Verdict;
  if (patch.verdict !== undefined && !(patch.verdict === 'pending' && isDecided(currentVerdict))) {
    if (patch.verdict !== currentVerdict && isDecided(patch.verdict)) next.decided_at = now;
    next.verdict = patch.verdict;
  }
  if (patch.reason !== undefined) next.reason = patch.reason;
  if (patch.findings !== undefined) next.findings = JSON.stringify(patch.findings);
  if (patch.reports !== undefined) {
    const stored = JSON.parse(current.reports) as Record<string, unknown>;
    // Reports with a schema version are a whole analysis (`ArtifactReports`): they replace every
    // piece of the previous one, its stamp and investigation, so a re-analysed artifact keeps no stale
    // phase or failure. Other patches (an investigation, a stamp) add or replace only their keys.
    if (patch.reports.schemaVersion !== undefined) for (const key of REPLACED_BY_ANALYSIS) delete stored[key];
    next.reports = JSON.stringify({ ...stored, ...patch.reports });
  }
  if (patch.ruleSetVersion !== undefined) next.rule_set_version = patch.ruleSetVersion;
  if (patch.storagePath !== undefined) next.storage_path = patch.storagePath;
  if (patch.decidedAt !== undefined) next.decided_at = patch.decidedAt;
  return next;
}

export function newArtifactRow(key: ArtifactKey, now: string): ArtifactsTable {
  return {
    name: key.name,
    version: key.version,
    integrity: key.integrity,
    verdict: 'pending',
    reason: null,
    findings: '[]',
    reports: '{}',
    rule_set_version: null,
    storage_path: null,
    decided_at: null,
    created_at: now,
    updated_at: now,
  };
}

export function scanFromRow(row: ScansTable & { graph: string }): ScanRecord {
  return {
    id: row.id,
    label: opt(row.label),
    status: row.status as ScanStatus,
    graph: JSON.parse(row.graph) as ScanRecord['graph'],
    createdAt: row.created_at,
    completedAt: opt(row.completed_at),
  };
}

export function scanPackageToRow(scanId: string, pkg: Omit<ScanPackageRecord, 'scanId'>): ScanPackagesTable {
  return {
    scan_id: scanId,
    key: pkg.key,
    name: pkg.name,
    version: pkg.version,
    integrity: nul(pkg.integrity),
    source: pkg.source,
    dev: pkg.dev ? 1 : 0,
    state: pkg.state,
    reason: nul(pkg.reason),
    findings: JSON.stringify(pkg.findings),
    blocked_by: pkg.blockedBy === undefined ? null : JSON.stringify(pkg.blockedBy),
  };
}

export function scanPackageFromRow(row: ScanPackagesTable): ScanPackageRecord {
  return {
    scanId: row.scan_id,
    key: row.key,
    name: row.name,
    version: row.version,
    integrity: opt(row.integrity),
    source: row.source as SourceKind,
    dev: Number(row.dev) !== 0,
    state: row.state as PackageState,
    reason: opt(row.reason),
    findings: JSON.parse(row.findings) as Finding[],
    blockedBy: row.blocked_by === null ? undefined : (JSON.parse(row.blocked_by) as BlockedBy),
  };
}

export function jobFromRow(row: JobsTable): JobRecord {
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    integrity: row.integrity,
    status: row.status as JobStatus,
    attempts: Number(row.attempts),
    resolved: opt(row.resolved),
    error: opt(row.error),
    workerId: opt(row.worker_id),
    lockedUntil: opt(row.locked_until),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function tokenFromRow(row: TokensTable): TokenRecord {
  return { id: row.id, role: row.role as Role, label: opt(row.label), createdAt: row.created_at };
}
