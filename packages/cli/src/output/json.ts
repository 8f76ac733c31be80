import { packageFailure } from '@secure-registry/shared';
import type { PackageFailure, ScanCounts, ScanResult, SourceKind } from '@secure-registry/shared';
import { ExitCode, infrastructureErrorCode, infrastructureFailures } from '../exit-codes.js';
import type { FailOn } from '../exit-codes.js';
import { infrastructureLine } from './plain.js';
import { explain, sortByRootCause } from './order.js';

/** `--json` output, schema version 1 (see packages/cli/README-json.md). */
export interface JsonReport {
  schemaVersion: 1;
  scanId: string;
  status: ScanResult['status'];
  exitCode: number;
  failOn: FailOn;
  lockfile: { path: string; lockfileVersion: number | null };
  counts: ScanCounts;
  /** Why the scan failed (exit 3 or 4); absent when it did not. */
  error?: JsonError;
  packages: {
    key: string;
    name: string;
    version: string;
    integrity: string | null;
    source: SourceKind;
    dev: boolean;
    verdict: ScanResult['packages'][number]['state'];
    reason: string | null;
    blockedBy: { name: string; version: string; path: string[] } | null;
    /** Set when the package is undecided because the infrastructure failed (an upstream outage). */
    failure: PackageFailure | null;
    findings: {
      rule: string;
      severity: string;
      message: string;
      evidence: ScanResult['packages'][number]['findings'][number]['evidence'];
    }[];
  }[];
}

/**
 * The error of a failed scan: `infrastructure` (exit 4: the server, the network or the upstream
 * registry failed) or `usage` (exit 3: bad flags, input or credentials).
 */
export interface JsonError {
  kind: 'infrastructure' | 'usage';
  /** A stable `ERR_SR_*` code where there is one. */
  code?: string;
  /** One line. */
  message: string;
  hint?: string;
}

/** The document `--json` prints when the scan could not run: the error and the exit code. */
export interface JsonErrorReport {
  schemaVersion: 1;
  exitCode: number;
  error: JsonError;
}

export function buildJsonErrorReport(exitCode: number, error: Omit<JsonError, 'kind'>): JsonErrorReport {
  return {
    schemaVersion: 1,
    exitCode,
    error: { kind: exitCode === ExitCode.UsageError ? 'usage' : 'infrastructure', ...error },
  };
}

export function buildJsonReport(input: {
  result: ScanResult;
  exitCode: number;
  failOn: FailOn;
  lockfilePath: string;
  lockfileVersion: number | undefined;
}): JsonReport {
  const { result } = input;
  const failures = infrastructureFailures(result.packages);
  return {
    schemaVersion: 1,
    scanId: result.id,
    status: result.status,
    exitCode: input.exitCode,
    failOn: input.failOn,
    lockfile: { path: input.lockfilePath, lockfileVersion: input.lockfileVersion ?? null },
    counts: result.counts,
    ...(failures.length > 0
      ? {
          error: {
            kind: 'infrastructure' as const,
            code: infrastructureErrorCode(failures),
            message: failures.map(infrastructureLine).join('; '),
          },
        }
      : {}),
    packages: sortByRootCause(result.packages).map((pkg) => ({
      key: pkg.key,
      name: pkg.name,
      version: pkg.version,
      integrity: pkg.integrity ?? null,
      source: pkg.source,
      dev: pkg.dev,
      verdict: pkg.state,
      reason: pkg.state === 'approved' ? (pkg.reason ?? null) : explain(pkg),
      blockedBy: pkg.blockedBy ?? null,
      failure: pkg.failure ?? packageFailure(pkg) ?? null,
      findings: pkg.findings.map((finding) => ({
        rule: finding.rule,
        severity: finding.severity,
        message: finding.message,
        evidence: finding.evidence,
      })),
    })),
  };
}
