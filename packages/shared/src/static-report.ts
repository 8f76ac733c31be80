import { z } from 'zod';

// The static report: what the first analysis stage found in a tarball and its packument. Plain JSON
// (no Dates, no Maps) so it can be stored and re-evaluated by later rule sets. The analyzer
// (`@secure-registry/analyzer`, `analyzeStatic`) produces it; the rules read it.

export const STATIC_REPORT_SCHEMA_VERSION = 1;

export const ExtractionIssueKind = z.enum([
  'corrupt',
  'absolute-path',
  'path-escape',
  'link-outside',
  'special-file',
  'limit-exceeded',
  /** npm on another platform (or another tar reader) would install different files. */
  'ambiguous',
]);
export type ExtractionIssueKind = z.infer<typeof ExtractionIssueKind>;

export const ExtractionIssue = z.object({
  kind: ExtractionIssueKind,
  /** The raw entry path as it appears in the archive (truncated). */
  path: z.string().optional(),
  detail: z.string(),
});
export type ExtractionIssue = z.infer<typeof ExtractionIssue>;

export const ExtractionSummary = z.object({
  /** False when the archive could not be read to its end. */
  complete: z.boolean(),
  gzip: z.boolean(),
  compressedBytes: z.number(),
  unpackedBytes: z.number(),
  fileCount: z.number(),
  issues: z.array(ExtractionIssue),
});
export type ExtractionSummary = z.infer<typeof ExtractionSummary>;

export const LifecycleEvent = z.enum(['preinstall', 'install', 'postinstall']);
export type LifecycleEvent = z.infer<typeof LifecycleEvent>;

export const InstallScript = z.object({
  event: LifecycleEvent,
  command: z.string(),
  /** True for the `node-gyp rebuild` npm runs when `binding.gyp` exists and no install script does. */
  implicit: z.boolean(),
  /** Compared with the previous version: `null` when there is no previous version or it is unknown. */
  isNew: z.boolean().nullable(),
  /** The previous version's command for this event, when it had one and it differs. */
  previousCommand: z.string().optional(),
  /** Files the command runs (relative to the package root), resolved where they exist. */
  files: z.array(z.string()),
});
export type InstallScript = z.infer<typeof InstallScript>;

export const CodeSignalKind = z.enum([
  'obfuscation',
  'browser-hook',
  'credential-path',
  'env-dump',
  'network',
  'shell-downloader',
  'crypto-address-list',
]);
export type CodeSignalKind = z.infer<typeof CodeSignalKind>;

/** How code was reached: from an install script, from an import entry point, or not at all. */
export const Reach = z.object({ install: z.boolean(), import: z.boolean() });
export type Reach = z.infer<typeof Reach>;

export const CodeSignal = z.object({
  kind: CodeSignalKind,
  /** The specific pattern, e.g. `_0x-identifiers`, `fetch-override`, `pipe-to-shell`. */
  pattern: z.string(),
  /** Strong patterns are concealment on their own; weak ones need company (obfuscation only). */
  strength: z.enum(['strong', 'weak']),
  /** Package-relative path, or `package.json#scripts.<event>` for script commands. */
  file: z.string(),
  line: z.number(),
  excerpt: z.string(),
  /** How many times this pattern occurred in the file (evidence is for the first). */
  count: z.number(),
  reach: Reach,
});
export type CodeSignal = z.infer<typeof CodeSignal>;

export const MetadataSignals = z.object({
  /** The highest version lower than this one in the packument, by semver. */
  previousVersion: z.string().optional(),
  /** `major`, `minor`, `patch`, `prerelease`, … relative to the previous version. */
  releaseType: z.string().optional(),
  publishedAt: z.string().optional(),
  ageHours: z.number().optional(),
  /** When the package itself was first published and how many versions it has. */
  packageCreatedAt: z.string().optional(),
  versionCount: z.number(),
  maintainers: z.object({
    current: z.array(z.string()),
    previous: z.array(z.string()).nullable(),
    added: z.array(z.string()),
    removed: z.array(z.string()),
    publisher: z.string().optional(),
    previousPublisher: z.string().optional(),
  }),
  provenance: z.object({ current: z.boolean(), previous: z.boolean().nullable(), lost: z.boolean() }),
  /** Install events the packument's manifest for this version declares, when it says. */
  packumentInstallEvents: z.array(LifecycleEvent).nullable(),
});
export type MetadataSignals = z.infer<typeof MetadataSignals>;

export const TyposquatSignal = z.object({
  /** The popular package this name imitates. */
  target: z.string(),
  technique: z.enum(['edit-distance', 'separator', 'homoglyph', 'scope-confusion']),
});
export type TyposquatSignal = z.infer<typeof TyposquatSignal>;

export const ManifestSummary = z.object({
  found: z.boolean(),
  error: z.string().optional(),
  name: z.string().optional(),
  version: z.string().optional(),
  /** Lifecycle scripts relevant to installs, as the tarball's package.json declares them. */
  scripts: z.record(z.string(), z.string()),
  hasBindingGyp: z.boolean(),
  /**
   * `"gypfile": false`: npm skips the implicit `node-gyp rebuild` only without a lockfile; from a
   * lockfile (`npm ci`) it builds anyway, so the analysis does too (manifest.ts installCommands).
   */
  gypfileDisabled: z.boolean().optional(),
  /** Import entry points (main/module/browser/exports), package-relative. */
  entryPoints: z.array(z.string()),
  /**
   * The tarball's own name, version, scripts, dependencies (prod, optional, peer) and bin, as
   * written: what npm acts on, and what the vetted registry serves for this version.
   */
  declared: z.record(z.string(), z.unknown()).optional(),
});
export type ManifestSummary = z.infer<typeof ManifestSummary>;

/** A field on which the registry's manifest of a version and its tarball's package.json disagree. */
export const ManifestDifference = z.object({
  field: z.string(),
  /** The registry's value (JSON), or undefined when it has none. */
  registry: z.string().optional(),
  /** The tarball's value (JSON), or undefined when it has none. */
  tarball: z.string().optional(),
});
export type ManifestDifference = z.infer<typeof ManifestDifference>;

export const StaticReport = z.object({
  schemaVersion: z.literal(STATIC_REPORT_SCHEMA_VERSION),
  analyzerVersion: z.string(),
  name: z.string(),
  version: z.string(),
  extraction: ExtractionSummary,
  manifest: ManifestSummary,
  installScripts: z.array(InstallScript),
  code: z.array(CodeSignal),
  reachable: z.object({ install: z.array(z.string()), import: z.array(z.string()) }),
  /** Scanned files of 1 MiB or more (bundled CLIs and libraries), with their size. */
  bundles: z.array(z.object({ path: z.string(), bytes: z.number() })).optional(),
  /** Files that were not scanned for signals because of size limits. */
  skippedFiles: z.array(z.object({ path: z.string(), reason: z.string() })),
  typosquat: TyposquatSignal.nullable(),
  metadata: MetadataSignals,
  /**
   * Manifest confusion: fields on which the registry's manifest of this version and the tarball's
   * package.json disagree (name, version, install scripts, dependencies, bin). Absent when the
   * registry's manifest was not available to compare.
   */
  manifestDifferences: z.array(ManifestDifference).optional(),
  /** Problems of the analysis itself (not of the package). Any entry means incomplete analysis. */
  errors: z.array(z.string()),
});
export type StaticReport = z.infer<typeof StaticReport>;
