import { z } from 'zod';
import { DependencyGraph, SourceKind } from './graph.js';
import { inputText } from './input-text.js';
import { Finding, PackageState, Verdict } from './verdict.js';
import { PackageFailure } from './package-failure.js';

export const API_PREFIX = '/api/v1';

/** `POST /api/v1/scans` body. */
export const CreateScanRequest = z.object({
  graph: DependencyGraph,
  /** Free-form label shown in listings, e.g. the project directory name. */
  label: inputText(200).optional(),
});
export type CreateScanRequest = z.infer<typeof CreateScanRequest>;

/**
 * `POST /api/v1/verdicts/signatures`: what the stored verdicts of these artifacts rest on, without
 * their reports, so a client that kept a scan's result can tell whether it still holds (a warm re-check).
 */
export const VerdictSignaturesRequest = z.object({
  artifacts: z
    .array(
      z.object({ name: z.string().max(214), version: z.string().max(256), integrity: z.string().max(1024) }),
    )
    .max(100_000),
});
export type VerdictSignaturesRequest = z.infer<typeof VerdictSignaturesRequest>;

export const VerdictSignaturesResponse = z.object({
  /** The server's version: a result recorded under another may not be what this one answers. */
  server: z.string(),
  /** `name@version#integrity` → the stored verdict; artifacts without a stored row are absent. */
  verdicts: z.record(
    z.string(),
    z.object({ verdict: z.string(), reason: z.string().optional(), signature: z.string() }),
  ),
});
export type VerdictSignaturesResponse = z.infer<typeof VerdictSignaturesResponse>;

export const BlockedBy = z.object({
  name: z.string(),
  version: z.string(),
  /** `name@version` of each package from this one down to the rejected one. */
  path: z.array(z.string()),
});
export type BlockedBy = z.infer<typeof BlockedBy>;

export const ScanPackage = z.object({
  key: z.string(),
  name: z.string(),
  version: z.string(),
  integrity: z.string().optional(),
  source: SourceKind,
  dev: z.boolean(),
  state: PackageState,
  /** One line: why this package is not approved (empty for approved ones). */
  reason: z.string().optional(),
  findings: z.array(Finding),
  blockedBy: BlockedBy.optional(),
  /** Set when the package is undecided because the infrastructure failed (an upstream outage). */
  failure: PackageFailure.optional(),
});
export type ScanPackage = z.infer<typeof ScanPackage>;

export const ScanCounts = z.object({
  total: z.number().int(),
  pending: z.number().int(),
  analyzing: z.number().int(),
  approved: z.number().int(),
  rejected: z.number().int(),
  review: z.number().int(),
  blocked: z.number().int(),
  unvettable: z.number().int(),
});
export type ScanCounts = z.infer<typeof ScanCounts>;

export const ScanStatus = z.enum(['running', 'completed', 'failed']);
export type ScanStatus = z.infer<typeof ScanStatus>;

export const ScanSummary = z.object({
  id: z.string(),
  label: z.string().optional(),
  status: ScanStatus,
  createdAt: z.string(),
  completedAt: z.string().optional(),
  counts: ScanCounts,
});
export type ScanSummary = z.infer<typeof ScanSummary>;

/** `GET /api/v1/scans/:id`. */
export const ScanResult = ScanSummary.extend({ packages: z.array(ScanPackage) });
export type ScanResult = z.infer<typeof ScanResult>;

/**
 * The steps an artifact goes through, in order: download and integrity check, the static stage, the
 * sandbox phases, and the LLM investigation of what the rules held.
 */
export const AnalysisStep = z.enum(['fetch', 'static', 'install', 'import', 'browser', 'investigating']);
export type AnalysisStep = z.infer<typeof AnalysisStep>;

/**
 * One step of one artifact's analysis starting or ending. `skipped`: the step was due but did not run
 * (the sandbox is off or missing on the server: `detail` says why). `failed`: it ran and did not
 * complete (a timeout, a crash, an upstream error; the package is held, never approved for it).
 */
export const PhaseProgress = z.object({
  phase: AnalysisStep,
  status: z.enum(['started', 'finished', 'failed', 'skipped']),
  /** When the server saw it (ISO 8601). */
  at: z.string(),
  /** Ended steps: how long the step took. */
  durationMs: z.number().nonnegative().optional(),
  /** Sandbox phases: whether the package's code ran inside the sandbox. */
  sandbox: z.boolean().optional(),
  /** Sandbox phases: where the run happened (`local`: this server's machine; `github`: a runner). */
  executor: z.string().optional(),
  /** Batched import/browser runs: how many packages shared the sandbox. */
  batch: z.number().int().positive().optional(),
  detail: z.string().optional(),
});
export type PhaseProgress = z.infer<typeof PhaseProgress>;

/** Server-Sent Events on `GET /api/v1/scans/:id/events`; `id:` is a per-scan sequence number. */
export const ScanEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('scan.snapshot'), scan: ScanResult }),
  z.object({
    type: z.literal('package.state'),
    key: z.string(),
    name: z.string(),
    version: z.string(),
    state: PackageState,
    reason: z.string().optional(),
    findings: z.array(Finding).default([]),
    blockedBy: BlockedBy.optional(),
    counts: ScanCounts,
  }),
  /** An analysis step of an artifact in this scan (`keys`: the scan's packages with that artifact). */
  PhaseProgress.extend({
    type: z.literal('package.phase'),
    keys: z.array(z.string()),
    name: z.string(),
    version: z.string(),
  }),
  z.object({ type: z.literal('scan.completed'), scan: ScanSummary }),
]);
export type ScanEvent = z.infer<typeof ScanEvent>;

/** `GET /api/v1/packages/:name/:version`. */
export const PackageVerdictResponse = z.object({
  name: z.string(),
  version: z.string(),
  integrity: z.string(),
  verdict: Verdict,
  reason: z.string().optional(),
  findings: z.array(Finding),
  decidedAt: z.string().optional(),
  ruleSetVersion: z.string().optional(),
  /** Stage reports keyed by stage name (`static`, `install`, `import`, `browser`). */
  reports: z.record(z.string(), z.unknown()),
});
export type PackageVerdictResponse = z.infer<typeof PackageVerdictResponse>;

export const Role = z.enum(['admin', 'reviewer', 'ci']);
export type Role = z.infer<typeof Role>;

export const ErrorBody = z.object({
  error: z.string(),
  code: z.string().optional(),
  hint: z.string().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

export const HealthResponse = z.object({
  ok: z.boolean(),
  version: z.string(),
  storage: z.string(),
  /** Why the server is not healthy (with `ok: false`, status 503): e.g. no space in the data directory. */
  reason: z.string().optional(),
});
export type HealthResponse = z.infer<typeof HealthResponse>;
