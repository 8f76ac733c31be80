import type { AuthMode } from '../http/auth.js';
import { issueToken } from '../http/auth.js';
import type { RuleSet } from '../rules/engine.js';
import type { LoadedPolicy } from '../rules/policy-file.js';
import { ReviewService } from '../services/review-service.js';
import type { ScanService } from '../services/scan-service.js';
import type { Store } from '../storage/store.js';
import type { InvestigationRecord } from './investigator.js';
import { createChatModel } from './llm-config.js';
import type { LlmConfig } from './llm-config.js';
import { createLlmReviewer } from './llm-reviewer.js';
import type { ArtifactReviewer } from './llm-reviewer.js';
import { connectMcpTools } from './mcp-tools.js';

/**
 * The LLM investigator as the server runs it: an MCP client of the server's own `/mcp` endpoint
 * (over real HTTP, with an internal ci token in token mode: it reads, it cannot decide), recording each approve/reject
 * opinion in the append-only decision log as `llm:<model>` (recorded, not applied: the policy
 * applies it) and every investigation in `reports.llm`.
 */
export function createServerReviewer(options: {
  llm: LlmConfig;
  policy: LoadedPolicy;
  /** The rule set the pipeline judges with (a stand-in analyzer's in tests). */
  ruleSet: RuleSet | undefined;
  store: Store;
  scans: Pick<ScanService, 'applyArtifactDecision'>;
  auth: AuthMode;
  /** The server's base URL; known once it listens. */
  baseUrl: () => string;
}): ArtifactReviewer {
  const model = createChatModel(options.llm);
  const reviews = new ReviewService({ store: options.store, scans: options.scans });
  let token: Promise<string> | undefined;
  const tokenFor = (): Promise<string | undefined> => {
    if (options.auth === 'none') return Promise.resolve(undefined);
    token ??= issueToken(options.store, { role: 'ci', label: 'llm-investigator (internal)' }).then(
      (issued) => issued.token,
    );
    return token;
  };
  const inner = createLlmReviewer({
    model,
    policy: options.policy,
    ruleSet: options.ruleSet,
    connect: async (signal) =>
      connectMcpTools({
        url: `${options.baseUrl().replace(/\/+$/, '')}/mcp`,
        token: await tokenFor(),
        signal,
      }),
  });
  return async (artifact, signal) => {
    const patch = await inner(artifact, signal);
    const record = patch?.reports?.llm as InvestigationRecord | undefined;
    const decision = record?.opinion?.decision;
    if (record && (decision === 'approve' || decision === 'reject')) {
      await reviews
        .decide(
          {
            name: artifact.name,
            version: artifact.version,
            integrity: artifact.integrity,
            decision,
            reason: record.opinion!.rationale,
            evidence: record.opinion!.evidence,
          },
          { reviewer: record.reviewer, role: 'llm' },
          { apply: false },
        )
        .catch((error: unknown) => {
          record.errors.push(`recording the opinion in the decision log failed: ${String(error)}`);
        });
    }
    return patch;
  };
}
