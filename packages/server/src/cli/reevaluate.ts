import { parseArgs } from 'node:util';
import { formatPackageVersion, readArtifactReports, UserError } from '@secure-registry/shared';
import type { Verdict } from '@secure-registry/shared';
import { resolvePolicy } from '../rules/policy-file.js';
import type { LoadedPolicy } from '../rules/policy-file.js';
import { RULE_SET_VERSION } from '../rules/registry.js';
import { decide } from '../verdict/index.js';
import { createStore } from '../storage/index.js';
import { createAnalysisQueue } from '../scheduler/analysis-queue.js';
import { isFailedAnalysis } from '../services/scan-planner.js';
import type { ArtifactRecord, Store } from '../storage/store.js';
import type { Env } from '../config/server-config.js';
import { loadConfig } from './load-config.js';

export const REEVALUATE_USAGE = `Usage: secure-registry-server reevaluate [--policy <file>] [--all] [--dry-run] [--json]

Re-runs the rule set on the stored reports (static and behaviour) of analysed artifacts under the
current rules and policy, without running sandboxes or downloading anything, and updates their
verdicts. Artifacts a person decided keep their verdict; an LLM opinion on record is applied again
under the policy. Without --all, only artifacts whose verdict was made by another rule-set or
policy version are re-evaluated. Artifacts held only because they could not be analysed (the
sandbox could not run, an upstream outage) are queued for analysis again (a running server
picks them up; otherwise the next start does).

  --policy <file>  the policy file (default: $SR_POLICY_FILE, else the built-in policy)
  --all            re-evaluate every artifact, even those already at the current versions
  --dry-run        print what would change; write nothing
  --json           print the summary as JSON
`;

const VERDICTS: readonly Verdict[] = ['approved', 'rejected', 'review'];

export interface VerdictChange {
  package: string;
  integrity: string;
  from: Verdict;
  to: Verdict;
  reason: string | undefined;
}

export interface ReevaluateSummary {
  ruleSetVersion: string;
  policyVersion: string;
  policySource: string;
  dryRun: boolean;
  examined: number;
  reevaluated: number;
  /** Already decided under the current rule set and policy (skipped without --all). */
  upToDate: number;
  /** Decided by a person: never overridden. */
  personDecided: number;
  /** Nothing stored to re-evaluate (never analysed: an integrity failure or an analysis error). */
  notEvaluable: number;
  /**
   * Held only because they could not be analysed (the sandbox could not run, an upstream outage):
   * queued for analysis again instead (a running server, or the next start, runs them).
   */
  requeued: number;
  unchanged: number;
  changes: VerdictChange[];
}

function usageError(message: string): UserError {
  return new UserError('ERR_SR_USAGE', message, { hint: 'run `secure-registry-server reevaluate --help`' });
}

/** Re-evaluates stored artifacts under the policy; pure over the store (no network, no sandbox). */
export async function reevaluateStore(
  store: Store,
  options: { policy: LoadedPolicy; all: boolean; dryRun: boolean; now?: Date },
): Promise<ReevaluateSummary> {
  const { policy } = options;
  const summary: ReevaluateSummary = {
    ruleSetVersion: RULE_SET_VERSION,
    policyVersion: policy.version,
    policySource: policy.source,
    dryRun: options.dryRun,
    examined: 0,
    reevaluated: 0,
    upToDate: 0,
    personDecided: 0,
    notEvaluable: 0,
    requeued: 0,
    unchanged: 0,
    changes: [],
  };
  // Listed before any update, so an artifact whose verdict changes is not met twice.
  const artifacts: ArtifactRecord[] = [];
  for (const verdict of VERDICTS) artifacts.push(...(await store.listArtifactsByVerdict(verdict, 1_000_000)));
  const queue = createAnalysisQueue({ store });
  for (const artifact of artifacts) {
    summary.examined++;
    const key = { name: artifact.name, version: artifact.version, integrity: artifact.integrity };
    // Held only because it could not be analysed (sandbox missing, upstream outage): not a
    // decision to re-evaluate but an analysis to run again (a running server picks the job up).
    if (isFailedAnalysis(artifact)) {
      summary.requeued++;
      if (!options.dryRun) await queue.queueAnalysis([key]);
      continue;
    }
    const reports = readArtifactReports(artifact.reports);
    const stamp = reports.decision;
    if (
      !options.all &&
      stamp?.ruleSetVersion === RULE_SET_VERSION &&
      stamp.policyVersion === policy.version
    ) {
      summary.upToDate++;
      continue;
    }
    const decisions = await store.listReviewDecisions(key);
    if (decisions.some((decision) => decision.role !== 'llm')) {
      summary.personDecided++;
      continue;
    }
    // Nothing the rules can read (never analysed: an integrity failure or an analysis error; or a
    // static report in a shape no longer readable): its verdict stands.
    if (!reports.static) {
      summary.notEvaluable++;
      continue;
    }
    summary.reevaluated++;
    // The investigation on record is applied again under the policy.
    const final = decide({
      name: artifact.name,
      version: artifact.version,
      reports,
      policy,
      llm: reports.llm,
      ...(options.now ? { now: options.now } : {}),
    });
    if (final.verdict === artifact.verdict) summary.unchanged++;
    else {
      summary.changes.push({
        package: formatPackageVersion(artifact.name, artifact.version),
        integrity: artifact.integrity,
        from: artifact.verdict,
        to: final.verdict,
        reason: final.reason,
      });
    }
    if (!options.dryRun) {
      await store.upsertArtifact(key, {
        verdict: final.verdict,
        reason: final.reason,
        findings: final.findings,
        ruleSetVersion: final.ruleSetVersion,
        ...(final.stamp ? { reports: { decision: final.stamp } } : {}),
      });
    }
  }
  return summary;
}

export function formatSummary(summary: ReevaluateSummary): string {
  const lines = [
    `rule set ${summary.ruleSetVersion}, policy ${summary.policyVersion} (${summary.policySource})${summary.dryRun ? ' — dry run, nothing written' : ''}`,
    `examined ${summary.examined}: re-evaluated ${summary.reevaluated}, up to date ${summary.upToDate}, ` +
      `decided by a person ${summary.personDecided}, nothing to re-evaluate ${summary.notEvaluable}, ` +
      `queued for analysis again (could not be analysed) ${summary.requeued}`,
    `verdicts changed: ${summary.changes.length}, unchanged: ${summary.unchanged}`,
    ...summary.changes.map(
      (change) =>
        `  ${change.package}: ${change.from} -> ${change.to}${change.reason ? ` (${change.reason})` : ''}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/** `secure-registry-server reevaluate`. */
export async function reevaluateCommand(
  args: readonly string[],
  env: Env,
  io: { stdout: (text: string) => void; stderr: (text: string) => void },
): Promise<number> {
  let values: {
    policy?: string | undefined;
    all?: boolean;
    'dry-run'?: boolean;
    json?: boolean;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        policy: { type: 'string' },
        all: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw usageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    io.stdout(REEVALUATE_USAGE);
    return 0;
  }
  const config = loadConfig(env, io);
  const policy = await resolvePolicy({ file: values.policy ?? config.policyFile, cwd: process.cwd() });
  const store = await createStore({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    schema: config.databaseSchema,
  });
  try {
    const summary = await reevaluateStore(store, {
      policy,
      all: values.all === true,
      dryRun: values['dry-run'] === true,
    });
    io.stdout(values.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
  } finally {
    await store.close();
  }
  return 0;
}
