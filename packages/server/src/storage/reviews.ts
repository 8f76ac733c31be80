/** Review decisions (append-only: this module inserts and reads, never updates or deletes). */
import { randomBytes } from 'node:crypto';
import type { ReviewRecord, Verdict } from '@secure-registry/shared';
import { nowIso, type StoreContext } from './context.js';
import { artifactFromRow } from './rows.js';
import type { ArtifactRecord, NewReviewDecision, ReviewQuery } from './store.js';

export interface ReviewDecisionsTable {
  id: string;
  name: string;
  version: string;
  integrity: string;
  decision: string;
  reviewer: string;
  role: string;
  reason: string;
  /** JSON array of evidence references. */
  evidence: string;
  rule_set_version: string | null;
  created_at: string;
}

function reviewDb(ctx: StoreContext) {
  return ctx.db.withTables<{ review_decisions: ReviewDecisionsTable }>();
}

/** Time-ordered ids: equal timestamps still sort in insertion order within a process. */
let lastMs = 0;
let counter = 0;
function newReviewId(ms: number): string {
  counter = ms === lastMs ? counter + 1 : 0;
  lastMs = ms;
  const time = ms.toString(36).padStart(9, '0');
  return `rev_${time}${counter.toString(36).padStart(4, '0')}${randomBytes(6).toString('hex')}`;
}

function reviewFromRow(row: ReviewDecisionsTable): ReviewRecord {
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    integrity: row.integrity,
    decision: row.decision as ReviewRecord['decision'],
    reviewer: row.reviewer,
    role: row.role as ReviewRecord['role'],
    reason: row.reason,
    evidence: JSON.parse(row.evidence) as string[],
    ...(row.rule_set_version !== null ? { ruleSetVersion: row.rule_set_version } : {}),
    createdAt: row.created_at,
  };
}

export async function appendReviewDecision(
  ctx: StoreContext,
  decision: NewReviewDecision,
): Promise<ReviewRecord> {
  const ms = ctx.clock();
  const row = await reviewDb(ctx)
    .insertInto('review_decisions')
    .values({
      id: newReviewId(ms),
      name: decision.name,
      version: decision.version,
      integrity: decision.integrity,
      decision: decision.decision,
      reviewer: decision.reviewer,
      role: decision.role,
      reason: decision.reason,
      evidence: JSON.stringify(decision.evidence),
      rule_set_version: decision.ruleSetVersion ?? null,
      created_at: nowIso(ctx),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return reviewFromRow(row);
}

export async function listReviewDecisions(ctx: StoreContext, query: ReviewQuery): Promise<ReviewRecord[]> {
  const rows = await reviewDb(ctx)
    .selectFrom('review_decisions')
    .selectAll()
    .$if(query.name !== undefined, (qb) => qb.where('name', '=', query.name!))
    .$if(query.version !== undefined, (qb) => qb.where('version', '=', query.version!))
    .$if(query.integrity !== undefined, (qb) => qb.where('integrity', '=', query.integrity!))
    .orderBy('created_at')
    .orderBy('id')
    .limit(query.limit ?? 1000)
    .execute();
  return rows.map(reviewFromRow);
}

export async function listArtifactsByVerdict(
  ctx: StoreContext,
  verdict: Verdict,
  limit = 500,
): Promise<ArtifactRecord[]> {
  const rows = await ctx.db
    .selectFrom('artifacts')
    .selectAll()
    .where('verdict', '=', verdict)
    .orderBy('decided_at')
    .orderBy('name')
    .orderBy('version')
    .limit(limit)
    .execute();
  return rows.map(artifactFromRow);
}
