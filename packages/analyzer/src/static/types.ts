/**
 * The static report: what the first analysis stage found in a tarball and its packument.
 * Plain JSON (no Dates, no Maps) so it can be stored and re-evaluated by later rule sets.
 */

import type { ManifestDifference } from './manifest-confusion.js';

export type { ManifestDifference };

/** Bumped whenever the analyzer's output for the same input can change. */
export const STATIC_ANALYZER_VERSION = '1.1.0';

export type ExtractionIssueKind =
  | 'corrupt'
  | 'absolute-path'
  | 'path-escape'
  | 'link-outside'
  | 'special-file'
  | 'limit-exceeded'
  /** npm on another platform (or another tar reader) would install different files. */
  | 'ambiguous';

export interface ExtractionIssue {
  kind: ExtractionIssueKind;
  /** The raw entry path as it appears in the archive (truncated). */
  path?: string;
  detail: string;
}

export interface ExtractionSummary {
  /** False when the archive could not be read to its end. */
  complete: boolean;
  gzip: boolean;
  compressedBytes: number;
  unpackedBytes: number;
  fileCount: number;
  issues: ExtractionIssue[];
}

export type LifecycleEvent = 'preinstall' | 'install' | 'postinstall';

export interface InstallScript {
  event: LifecycleEvent;
  command: string;
  /** True for the `node-gyp rebuild` npm runs when `binding.gyp` exists and no install script does. */
  implicit: boolean;
  /** Compared with the previous version: `null` when there is no previous version or it is unknown. */
  isNew: boolean | null;
  /** The previous version's command for this event, when it had one and it differs. */
  previousCommand?: string;
  /** Files the command runs (relative to the package root), resolved where they exist. */
  files: string[];
}

export type CodeSignalKind =
  | 'obfuscation'
  | 'browser-hook'
  | 'credential-path'
  | 'env-dump'
  | 'network'
  | 'shell-downloader'
  | 'crypto-address-list';

/** How code was reached: from an install script, from an import entry point, or not at all. */
export interface Reach {
  install: boolean;
  import: boolean;
}

export interface CodeSignal {
  kind: CodeSignalKind;
  /** The specific pattern, e.g. `_0x-identifiers`, `fetch-override`, `pipe-to-shell`. */
  pattern: string;
  /** Strong patterns are concealment on their own; weak ones need company (obfuscation only). */
  strength: 'strong' | 'weak';
  /** Package-relative path, or `package.json#scripts.<event>` for script commands. */
  file: string;
  line: number;
  excerpt: string;
  /** How many times this pattern occurred in the file (evidence is for the first). */
  count: number;
  reach: Reach;
}

export interface MetadataSignals {
  /** The highest version lower than this one in the packument, by semver. */
  previousVersion?: string;
  /** `major`, `minor`, `patch`, `prerelease`, … relative to the previous version. */
  releaseType?: string;
  publishedAt?: string;
  ageHours?: number;
  /** When the package itself was first published and how many versions it has. */
  packageCreatedAt?: string;
  versionCount: number;
  maintainers: {
    current: string[];
    previous: string[] | null;
    added: string[];
    removed: string[];
    publisher?: string;
    previousPublisher?: string;
  };
  provenance: { current: boolean; previous: boolean | null; lost: boolean };
  /** Install events the packument's manifest for this version declares, when it says. */
  packumentInstallEvents: LifecycleEvent[] | null;
}

export interface TyposquatSignal {
  /** The popular package this name imitates. */
  target: string;
  technique: 'edit-distance' | 'separator' | 'homoglyph' | 'scope-confusion';
}

export interface ManifestSummary {
  found: boolean;
  error?: string;
  name?: string;
  version?: string;
  /** Lifecycle scripts relevant to installs, as the tarball's package.json declares them. */
  scripts: Record<string, string>;
  hasBindingGyp: boolean;
  /**
   * `"gypfile": false`: npm skips the implicit `node-gyp rebuild` only without a lockfile; from a
   * lockfile (`npm ci`) it builds anyway, so the analysis does too (manifest.ts installCommands).
   */
  gypfileDisabled?: boolean;
  /** Import entry points (main/module/browser/exports), package-relative. */
  entryPoints: string[];
  /**
   * The tarball's own name, version, scripts, dependencies (prod, optional, peer) and bin, as
   * written: what npm acts on, and what the vetted registry serves for this version.
   */
  declared?: Record<string, unknown>;
}

export interface StaticReport {
  schemaVersion: 1;
  analyzerVersion: string;
  name: string;
  version: string;
  extraction: ExtractionSummary;
  manifest: ManifestSummary;
  installScripts: InstallScript[];
  code: CodeSignal[];
  reachable: { install: string[]; import: string[] };
  /** Scanned files of 1 MiB or more (bundled CLIs and libraries), with their size. */
  bundles?: { path: string; bytes: number }[];
  /** Files that were not scanned for signals because of size limits. */
  skippedFiles: { path: string; reason: string }[];
  typosquat: TyposquatSignal | null;
  metadata: MetadataSignals;
  /**
   * Manifest confusion: fields on which the registry's manifest of this version and the tarball's
   * package.json disagree (name, version, install scripts, dependencies, bin). Absent when the
   * registry's manifest was not available to compare.
   */
  manifestDifferences?: ManifestDifference[];
  /** Problems of the analysis itself (not of the package). Any entry means incomplete analysis. */
  errors: string[];
}

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
