import type { ScanCounts, ScanResult, SourceKind } from '@secure-registry/shared';
import type { FailOn } from '../exit-codes.js';
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
    findings: {
      rule: string;
      severity: string;
      message: string;
      evidence: ScanResult['packages'][number]['findings'][number]['evidence'];
    }[];
  }[];
}

export function buildJsonReport(input: {
  result: ScanResult;
  exitCode: number;
  failOn: FailOn;
  lockfilePath: string;
  lockfileVersion: number | undefined;
}): JsonReport {
  const { result } = input;
  return {
    schemaVersion: 1,
    scanId: result.id,
    status: result.status,
    exitCode: input.exitCode,
    failOn: input.failOn,
    lockfile: { path: input.lockfilePath, lockfileVersion: input.lockfileVersion ?? null },
    counts: result.counts,
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
      findings: pkg.findings.map((finding) => ({
        rule: finding.rule,
        severity: finding.severity,
        message: finding.message,
        evidence: finding.evidence,
      })),
    })),
  };
}
