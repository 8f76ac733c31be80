/**
 * The static report: what the first analysis stage found in a tarball and its packument.
 * Plain JSON (no Dates, no Maps) so it can be stored and re-evaluated by later rule sets.
 */

// The report's types are the zod schema's in @secure-registry/shared (static-report.ts): one
// definition, validated wherever a stored report is read back.
export type {
  CodeSignal,
  CodeSignalKind,
  ExtractionIssue,
  ExtractionIssueKind,
  ExtractionSummary,
  InstallScript,
  LifecycleEvent,
  ManifestDifference,
  ManifestSummary,
  MetadataSignals,
  Reach,
  StaticReport,
  TyposquatSignal,
} from '@secure-registry/shared';

/** Bumped whenever the analyzer's output for the same input can change. */
export const STATIC_ANALYZER_VERSION = '1.1.0';

/** Limits of the safe extraction. All sizes in bytes. */
export interface ExtractionLimits {
  maxCompressedBytes: number;
  maxUnpackedBytes: number;
  maxFileBytes: number;
  maxFiles: number;
  maxPathLength: number;
  /** Text files larger than this are counted but not scanned. */
  maxScanFileBytes: number;
  /** Total bytes of text kept in memory for scanning. */
  maxScanTotalBytes: number;
}

export const DEFAULT_LIMITS: ExtractionLimits = {
  maxCompressedBytes: 256 * 1024 * 1024,
  maxUnpackedBytes: 256 * 1024 * 1024,
  maxFileBytes: 128 * 1024 * 1024,
  // Popular icon packs ship tens of thousands of files (e.g. @mui/icons-material); a count limit
  // exists to stop archive bombs, not to judge large but ordinary packages.
  maxFiles: 100_000,
  maxPathLength: 1024,
  maxScanFileBytes: 8 * 1024 * 1024,
  maxScanTotalBytes: 64 * 1024 * 1024,
};
