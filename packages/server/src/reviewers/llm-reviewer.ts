import { readArtifactReports } from '@secure-registry/shared';
import type { ArtifactPatch, ArtifactRecord } from '../storage/store.js';
import type { RuleSet } from '../rules/engine.js';
import type { LoadedPolicy } from '../rules/policy-file.js';
import { resolveLlmPolicy } from '../rules/policy.js';
import type { Policy } from '../rules/policy.js';
import { decide } from '../verdict/index.js';
import type { ChatModel } from './chat-model.js';
import { investigate } from './investigator.js';
import type { InvestigationRecord } from './investigator.js';
import type { InvestigationTools } from './mcp-tools.js';

/**
 * A reviewer looks at a stored decision (rules done, artifact and reports stored, so the MCP tools
 * can see them) and returns a patch to apply, or undefined to leave it as it is. Never throws
 * except when `signal` is aborted.
 */
export type ArtifactReviewer = (
  artifact: ArtifactRecord,
  signal: AbortSignal,
) => Promise<ArtifactPatch | undefined>;

/** Whether the policy sends this stored decision to the LLM investigator. */
export function shouldInvestigate(artifact: ArtifactRecord, policy: Policy): boolean {
  if (artifact.verdict === 'review') return true;
  return (
    artifact.verdict === 'approved' &&
    resolveLlmPolicy(policy).investigate === 'review-and-install-scripts' &&
    (readArtifactReports(artifact.reports).static?.installScripts.length ?? 0) > 0
  );
}

function failedRecord(model: ChatModel, started: number, error: unknown): InvestigationRecord {
  const message = `cannot reach the MCP tools: ${error instanceof Error ? error.message : String(error)}`;
  return {
    reviewer: `llm:${model.model}`,
    provider: model.provider,
    model: model.model,
    outcome: 'error',
    error: message,
    steps: 0,
    tokens: { input: 0, output: 0, total: 0 },
    toolCalls: [],
    errors: [message],
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
  };
}

/**
 * The LLM investigator as a pipeline reviewer: investigates, records `reports.llm`, and `decide()`s
 * again with the investigation on top of the rules.
 */
export function createLlmReviewer(options: {
  model: ChatModel;
  policy: LoadedPolicy;
  /** The rule set that judged the stored reports (default: the full one). */
  ruleSet?: RuleSet | undefined;
  /** Opens an MCP client session on the server's tools. */
  connect: (signal: AbortSignal) => Promise<InvestigationTools>;
}): ArtifactReviewer {
  const limits = resolveLlmPolicy(options.policy.policy);
  return async (artifact, signal) => {
    if (!shouldInvestigate(artifact, options.policy.policy)) return undefined;
    const started = Date.now();
    let record: InvestigationRecord;
    let tools: InvestigationTools | undefined;
    try {
      tools = await options.connect(AbortSignal.any([signal, AbortSignal.timeout(limits.timeoutMs)]));
    } catch (error) {
      if (signal.aborted) throw error;
      record = failedRecord(options.model, started, error);
    }
    if (tools) {
      try {
        record = await investigate(
          {
            name: artifact.name,
            version: artifact.version,
            integrity: artifact.integrity,
            ruleVerdict: artifact.verdict,
            reason: artifact.reason,
            findings: artifact.findings,
          },
          { model: options.model, tools, limits, signal },
        );
      } finally {
        await tools.close().catch(() => undefined);
      }
    }
    const decided = decide({
      name: artifact.name,
      version: artifact.version,
      reports: readArtifactReports(artifact.reports),
      policy: options.policy,
      ruleSet: options.ruleSet,
      llm: record!,
    });
    return {
      verdict: decided.verdict,
      reason: decided.reason,
      findings: decided.findings,
      reports: { llm: record! },
    };
  };
}
