import type {
  HeldPackage,
  ReviewDecisionRequest,
  ReviewDecisionResponse,
  ReviewRecord,
  Role,
} from '@secure-registry/shared';
import { formatPackageVersion, UserError } from '@secure-registry/shared';
import type { ArtifactRecord, Store } from '../storage/store.js';
import type { ScanService } from './scan-service.js';
import { decide } from '../verdict/index.js';

/** Who decides: a person (their token) or an LLM (`llm:<model>`). */
export interface ReviewActor {
  /** Token label or id, or `llm:<model>`. */
  reviewer: string;
  role: Role | 'llm';
}

/** Roles whose decisions set the verdict. */
export const REVIEWER_ROLES: readonly Role[] = ['reviewer', 'admin'];

export interface ReviewServiceDeps {
  store: Store;
  scans: Pick<ScanService, 'applyArtifactDecision'>;
}

/**
 * The review queue and its decisions. Every decision is appended to the decision log (never
 * updated or deleted); a person's decision then sets the artifact's verdict and moves the
 * matching packages of running scans, through the same path the pipeline uses.
 */
export class ReviewService {
  constructor(private readonly deps: ReviewServiceDeps) {}

  /** Artifacts held for a person, with their findings and earlier decisions. */
  async listHeld(options: { limit?: number } = {}): Promise<HeldPackage[]> {
    const held = await this.deps.store.listArtifactsByVerdict('review', options.limit ?? 500);
    const result: HeldPackage[] = [];
    for (const artifact of held) {
      const decisions = await this.deps.store.listReviewDecisions({
        name: artifact.name,
        version: artifact.version,
        integrity: artifact.integrity,
      });
      result.push({
        name: artifact.name,
        version: artifact.version,
        integrity: artifact.integrity,
        ...(artifact.reason !== undefined ? { reason: artifact.reason } : {}),
        findings: artifact.findings,
        ...(artifact.ruleSetVersion !== undefined ? { ruleSetVersion: artifact.ruleSetVersion } : {}),
        ...(artifact.decidedAt !== undefined ? { decidedAt: artifact.decidedAt } : {}),
        decisions,
      });
    }
    return result;
  }

  /** The decision log of a package version (every integrity), oldest first. */
  listDecisions(query: { name: string; version?: string | undefined }): Promise<ReviewRecord[]> {
    return this.deps.store.listReviewDecisions(query);
  }

  /**
   * Records a decision. People with the reviewer or admin role set the verdict; other actors
   * (an LLM's opinion) are only appended unless `apply` is true. Refuses the `ci` role.
   */
  async decide(
    request: ReviewDecisionRequest,
    actor: ReviewActor,
    options: { apply?: boolean } = {},
  ): Promise<ReviewDecisionResponse> {
    const isPerson = actor.role !== 'llm';
    if (isPerson && !REVIEWER_ROLES.includes(actor.role as Role)) {
      throw new UserError('ERR_SR_FORBIDDEN', 'recording a review decision needs the role reviewer or admin');
    }
    const apply = options.apply ?? isPerson;
    const artifact = await this.findArtifact(request, { allowPending: !apply });
    const { store } = this.deps;
    const record = await store.appendReviewDecision({
      name: artifact.name,
      version: artifact.version,
      integrity: artifact.integrity,
      decision: request.decision,
      reviewer: actor.reviewer,
      role: actor.role,
      reason: request.reason,
      evidence: request.evidence ?? artifact.findings.map((finding) => `finding:${finding.rule}`),
      ruleSetVersion: artifact.ruleSetVersion,
    });
    if (!apply) {
      return { record, verdict: artifact.verdict, scansUpdated: 0 };
    }
    const key = { name: artifact.name, version: artifact.version, integrity: artifact.integrity };
    const { verdict, reason } = decide({
      person: { decision: request.decision, reviewer: actor.reviewer, reason: request.reason },
      findings: artifact.findings,
    });
    const updated = await store.upsertArtifact(key, { verdict, reason });
    const running = await store.findRunningScansWithArtifact(key);
    // Held packages move too; a rejection also overrides an earlier approval.
    const from =
      verdict === 'rejected'
        ? (['pending', 'analyzing', 'review', 'approved'] as const)
        : (['pending', 'analyzing', 'review'] as const);
    await this.deps.scans.applyArtifactDecision(key, { verdict, reason, findings: updated.findings }, from);
    return { record, verdict: updated.verdict, scansUpdated: running.length };
  }

  private async findArtifact(
    request: ReviewDecisionRequest,
    options: { allowPending: boolean },
  ): Promise<ArtifactRecord> {
    const { store } = this.deps;
    const label = formatPackageVersion(request.name, request.version);
    const candidates = (await store.listArtifactsByName(request.name)).filter(
      (artifact) =>
        artifact.version === request.version &&
        (request.integrity === undefined || artifact.integrity === request.integrity),
    );
    if (candidates.length === 0) {
      throw new UserError('ERR_SR_PACKAGE_NOT_FOUND', `no analysed artifact of ${label}`, {
        hint: 'only packages the server has analysed can be reviewed; scan a project that uses it first',
      });
    }
    // An opinion that is only recorded may come while the artifact is still being decided.
    const decided = options.allowPending
      ? candidates
      : candidates.filter((artifact) => artifact.verdict !== 'pending');
    if (decided.length === 0) {
      throw new UserError('ERR_SR_NOT_ANALYSED', `${label} is still being analysed`, {
        hint: 'wait for the analysis to finish, then decide',
      });
    }
    const held = decided.filter((artifact) => artifact.verdict === 'review');
    const pool = held.length > 0 ? held : decided;
    if (pool.length > 1) {
      throw new UserError(
        'ERR_SR_AMBIGUOUS_ARTIFACT',
        `${label} has ${pool.length} artifacts with different integrities`,
        { hint: `pass integrity: one of ${pool.map((artifact) => artifact.integrity).join(', ')}` },
      );
    }
    return pool[0]!;
  }
}
