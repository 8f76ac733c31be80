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
  /**
   * Zip-bomb bound: the decompressed stream may grow to `maxInflationRatio` times the tarball's
   * size, or to `inflationAllowanceBytes` whatever the ratio (small archives of text compress well).
   */
  maxInflationRatio: number;
  inflationAllowanceBytes: number;
  /** Text files larger than this are counted but not scanned. */
  maxScanFileBytes: number;
  /** Total bytes of text kept in memory for scanning. */
  maxScanTotalBytes: number;
}

/**
 * Sized for real native-binary packages, measured on the registry (Dec 2026): one file of
 * 156,809,432 bytes in @next/swc-linux-x64-musl@14.2.33 (50 MB gzipped, ratio 3.1), Next's other
 * swc builds 46-47 MB gzipped, @rspack/binding 18.5 MB, sharp's libvips 7.5 MB, typescript 4.4 MB
 * (ratio ~5). Limits are about 3x the largest seen; the compressed limit matches the upstream
 * client's download limit. A hit holds the package (rule extraction-limits); it never approves it.
 */
export const DEFAULT_LIMITS: ExtractionLimits = {
  maxCompressedBytes: 512 * 1024 * 1024,
  maxUnpackedBytes: 1024 * 1024 * 1024,
  maxFileBytes: 512 * 1024 * 1024,
  maxInflationRatio: 100,
  inflationAllowanceBytes: 128 * 1024 * 1024,
  // Popular icon packs ship tens of thousands of files (e.g. @mui/icons-material); a count limit
  // exists to stop archive bombs, not to judge large but ordinary packages.
  maxFiles: 100_000,
  maxPathLength: 1024,
  maxScanFileBytes: 8 * 1024 * 1024,
  maxScanTotalBytes: 64 * 1024 * 1024,
};
