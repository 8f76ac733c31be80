import { z } from 'zod';
import { Phase, TraceEvent } from './events.js';
import { BehaviourReport, RunStatus } from './report.js';
import { StaticReport } from './static-report.js';
import { Finding } from './verdict.js';

// What the analysis of one artifact stored (an artifact's `reports`): the pieces each stage
// returns — fetch and verify (`integrity`), `static`, the sandbox phases (`install`, `import`,
// `browser`: report, bounded events, summary) and `sandbox` — and what was decided from them
// (`llm`, the investigation; `decision`, the rule-set stamp). Stages judge nothing; the server's
// `decide()` (packages/server/src/verdict/) turns these into a verdict.

/** Bumped when the stored shape changes; `readArtifactReports` reads every earlier shape. */
export const ARTIFACT_REPORTS_SCHEMA_VERSION = 2;

/** How one phase ran (not what the package did: that is the report). */
export const PhaseSummary = z.object({
  phase: Phase,
  status: RunStatus,
  durationMs: z.number(),
  timeoutMs: z.number(),
  exitCode: z.number().int().optional(),
  /** Events the run recorded, and how many of them are stored. */
  events: z.number().int(),
  storedEvents: z.number().int(),
  details: z.array(z.string()),
  /** Install phase with an installer: the dependencies present and what is missing. */
  dependencies: z
    .object({
      present: z.number(),
      bytes: z.number(),
      durationMs: z.number(),
      issues: z.array(z.string()),
      skipped: z.array(z.string()),
    })
    .optional(),
  /** Import / browser: the size of the batch it ran in, and why it was run again alone if it was. */
  batch: z.object({ size: z.number().int(), isolated: z.string().optional() }).optional(),
});
export type PhaseSummary = z.infer<typeof PhaseSummary>;

/** One sandbox phase of one artifact: what it did, the raw events kept, how the run went. */
export const PhaseRecord = z.object({
  report: BehaviourReport,
  /** The raw events (bounded): rules read the report, `query_events` these. */
  events: z.array(TraceEvent),
  /** Events left out to bound the stored size. */
  eventsOmitted: z.number().int().nonnegative(),
  /** Absent when the phase could not run (the sandbox was unavailable). */
  summary: PhaseSummary.optional(),
});
export type PhaseRecord = z.infer<typeof PhaseRecord>;

/** The sandbox as a whole for one artifact: phases planned, what was missing, the control runs. */
export const SandboxRecord = z.object({
  planned: z.array(Phase),
  /** What the machine lacks to run the sandbox (every phase then failed closed). */
  unavailable: z.array(z.string()).optional(),
  /** How the control package's runs went (the baseline subtracted from every report). */
  baseline: z
    .array(
      z.object({ phase: Phase, status: RunStatus, durationMs: z.number(), error: z.string().optional() }),
    )
    .optional(),
  extractionIssues: z.array(z.string()).optional(),
});
export type SandboxRecord = z.infer<typeof SandboxRecord>;

/** Fetch and verify: the tarball did not match the expected integrity, or there was none to check. */
export const IntegrityRecord = z.object({ tarballUrl: z.string(), findings: z.array(Finding) });
export type IntegrityRecord = z.infer<typeof IntegrityRecord>;

/** The analysis could not finish: the artifact is held (fail closed), and analysed again later. */
export const FailureRecord = z.object({
  /**
   * `interrupted`: the worker kept stopping mid-analysis (the package may be what kills it);
   * `infrastructure`: the upstream registry could not be fetched from (an outage);
   * `storage-full`: the server's disk or database was full.
   */
  kind: z.enum(['error', 'interrupted', 'infrastructure', 'storage-full']),
  attempts: z.number().int().optional(),
  message: z.string().optional(),
});
export type FailureRecord = z.infer<typeof FailureRecord>;

/** Which rule set and policy produced the stored verdict. */
export const DecisionStamp = z.object({
  ruleSetVersion: z.string(),
  policyVersion: z.string(),
  policySource: z.string(),
  evaluatedAt: z.string(),
});
export type DecisionStamp = z.infer<typeof DecisionStamp>;

/** One LLM investigation of the artifact. */
export const InvestigationRecord = z.object({
  reviewer: z.string(),
  provider: z.string(),
  model: z.string(),
  /** Only `opinion` carries a decision; everything else keeps the package held. */
  outcome: z.enum(['opinion', 'malformed', 'refused', 'timeout', 'budget', 'error']),
  opinion: z
    .object({
      decision: z.enum(['approve', 'reject', 'escalate']),
      rationale: z.string(),
      evidence: z.array(z.string()),
    })
    .optional(),
  /** Why there is no opinion (outcomes other than `opinion`). */
  error: z.string().optional(),
  steps: z.number(),
  tokens: z.object({ input: z.number(), output: z.number(), total: z.number() }),
  toolCalls: z.array(
    z.object({ name: z.string(), arguments: z.string(), isError: z.boolean(), resultChars: z.number() }),
  ),
  /** Every problem on the way, including tool errors the model recovered from. */
  errors: z.array(z.string()),
  startedAt: z.string(),
  durationMs: z.number(),
});
export type InvestigationRecord = z.infer<typeof InvestigationRecord>;

/**
 * A published advisory naming this version as malicious (an OSV `MAL-` record): a reason to reject
 * that no analysis is needed for, and that no rule or investigation overrides (only a person does).
 */
export const AdvisoryRecord = z.object({
  /** The advisory's id, e.g. `MAL-2025-1234`. */
  id: z.string(),
  summary: z.string(),
  /** Where it was imported from (a file path or URL). */
  source: z.string(),
  /** The advisory's own `modified` time, when it gave one. */
  modified: z.string().optional(),
  /** OSV's aliases (e.g. GHSA ids). */
  aliases: z.array(z.string()).optional(),
});
export type AdvisoryRecord = z.infer<typeof AdvisoryRecord>;

const PIECES = {
  integrity: IntegrityRecord,
  static: StaticReport,
  install: PhaseRecord,
  import: PhaseRecord,
  browser: PhaseRecord,
  sandbox: SandboxRecord,
  failure: FailureRecord,
  advisories: z.array(AdvisoryRecord),
  llm: InvestigationRecord,
  decision: DecisionStamp,
} as const;

/**
 * Every stored piece is optional: an integrity failure has only `integrity`, a failed analysis only
 * `failure`, a static-only analysis no phases. Other keys (e.g. `upstream`) are kept as they are.
 */
export const ArtifactReports = z.looseObject({
  schemaVersion: z.literal(ARTIFACT_REPORTS_SCHEMA_VERSION),
  integrity: IntegrityRecord.optional(),
  static: StaticReport.optional(),
  install: PhaseRecord.optional(),
  import: PhaseRecord.optional(),
  browser: PhaseRecord.optional(),
  sandbox: SandboxRecord.optional(),
  failure: FailureRecord.optional(),
  advisories: z.array(AdvisoryRecord).optional(),
  llm: InvestigationRecord.optional(),
  decision: DecisionStamp.optional(),
});
export type ArtifactReports = z.infer<typeof ArtifactReports>;

/** The pieces the analysis stages return (static, then the sandbox's). */
export type StageReports = Pick<ArtifactReports, 'static' | 'install' | 'import' | 'browser' | 'sandbox'>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Stored reports in the current shape, as plain JSON (nothing validated, nothing dropped). Rows
 * written before schema version 2 stored each phase as the behaviour report itself with `events`
 * and `eventsOmitted` beside its fields (even older ones under `dynamic`), and the phase summaries
 * in `sandbox.phases`; those are moved into `{ report, events, eventsOmitted, summary }`.
 */
export function upgradeArtifactReports(raw: unknown): Record<string, unknown> {
  if (!isRecord(raw)) return { schemaVersion: ARTIFACT_REPORTS_SCHEMA_VERSION };
  if (raw.schemaVersion === ARTIFACT_REPORTS_SCHEMA_VERSION) return raw;
  const out: Record<string, unknown> = { ...raw, schemaVersion: ARTIFACT_REPORTS_SCHEMA_VERSION };
  const sandbox = isRecord(raw.sandbox) ? raw.sandbox : undefined;
  const summaries = Array.isArray(sandbox?.phases) ? (sandbox.phases as unknown[]) : [];
  const dynamic = isRecord(raw.dynamic) ? raw.dynamic : {};
  for (const phase of Phase.options) {
    const stored = raw[phase] ?? dynamic[phase];
    if (!isRecord(stored)) continue;
    const summary = summaries.find((s) => isRecord(s) && s.phase === phase);
    if ('report' in stored) {
      out[phase] = { eventsOmitted: 0, events: [], ...stored, ...(summary ? { summary } : {}) };
      continue;
    }
    const { events, eventsOmitted, ...report } = stored;
    out[phase] = {
      report,
      events: Array.isArray(events) ? events : [],
      eventsOmitted: typeof eventsOmitted === 'number' ? eventsOmitted : 0,
      ...(summary ? { summary } : {}),
    };
  }
  if (sandbox && 'phases' in sandbox) {
    const { phases: _moved, ...rest } = sandbox;
    out.sandbox = rest;
  }
  return out;
}

/**
 * Reads stored reports of any schema version: upgraded (`upgradeArtifactReports`), then each piece
 * validated on its own. A piece that does not validate is left out and named in `unreadable`, so
 * that nothing judges what it cannot read (a missing static report is "nothing to re-evaluate").
 */
export function readArtifactReports(raw: unknown): ArtifactReports & { unreadable?: string[] } {
  const upgraded = upgradeArtifactReports(raw);
  const out: Record<string, unknown> = { ...upgraded };
  const unreadable: string[] = [];
  for (const [key, schema] of Object.entries(PIECES)) {
    if (upgraded[key] === undefined) continue;
    const parsed = schema.safeParse(upgraded[key]);
    if (parsed.success) out[key] = parsed.data;
    else {
      delete out[key];
      unreadable.push(key);
    }
  }
  return { ...(out as ArtifactReports), ...(unreadable.length > 0 ? { unreadable } : {}) };
}

/** The behaviour reports of the phases that ran, in phase order. */
export function behaviourReportsOf(reports: Pick<ArtifactReports, Phase>): BehaviourReport[] {
  return Phase.options.flatMap((phase) => {
    const record = reports[phase];
    return record ? [record.report] : [];
  });
}

/** How each phase that ran went, in phase order. */
export function phaseSummariesOf(reports: Pick<ArtifactReports, Phase>): PhaseSummary[] {
  return Phase.options.flatMap((phase) => {
    const summary = reports[phase]?.summary;
    return summary ? [summary] : [];
  });
}
