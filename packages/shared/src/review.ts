import { z } from 'zod';
import { Role } from './api.js';
import { inputText, npmPackageName, semverVersion } from './input-text.js';
import { Finding, Verdict } from './verdict.js';

/** A person's (or an LLM's) decision on a held artifact. */
export const ReviewDecisionKind = z.enum(['approve', 'reject']);
export type ReviewDecisionKind = z.infer<typeof ReviewDecisionKind>;

/** `POST /api/v1/reviews` body. */
export const ReviewDecisionRequest = z.object({
  name: npmPackageName,
  version: semverVersion,
  /** Picks one artifact when several share name and version; default: the held one. */
  integrity: inputText(200, 1).optional(),
  decision: ReviewDecisionKind,
  reason: inputText(4000).trim().min(1, 'a reason is required'),
  /** References to the evidence the decision relied on (finding rules, event seqs, file paths). */
  evidence: z.array(inputText(500)).max(100).optional(),
});
export type ReviewDecisionRequest = z.infer<typeof ReviewDecisionRequest>;

/** One append-only decision record. */
export const ReviewRecord = z.object({
  id: z.string(),
  name: z.string(),
  version: z.string(),
  integrity: z.string(),
  decision: ReviewDecisionKind,
  /** Token label or id of the person, or `llm:<model>`. */
  reviewer: z.string(),
  role: z.union([Role, z.literal('llm')]),
  reason: z.string(),
  evidence: z.array(z.string()),
  /** The rule set whose findings the decision was made on. */
  ruleSetVersion: z.string().optional(),
  createdAt: z.string(),
});
export type ReviewRecord = z.infer<typeof ReviewRecord>;

/** `POST /api/v1/reviews` answer: the record and the artifact's verdict after it. */
export const ReviewDecisionResponse = z.object({
  record: ReviewRecord,
  verdict: Verdict,
  /** Running scans whose packages were updated. */
  scansUpdated: z.number().int().nonnegative(),
});
export type ReviewDecisionResponse = z.infer<typeof ReviewDecisionResponse>;

/** A package held for a person, with the evidence that holds it. */
export const HeldPackage = z.object({
  name: z.string(),
  version: z.string(),
  integrity: z.string(),
  reason: z.string().optional(),
  findings: z.array(Finding),
  ruleSetVersion: z.string().optional(),
  decidedAt: z.string().optional(),
  /** Earlier decisions on this artifact, oldest first (e.g. an LLM's escalation). */
  decisions: z.array(ReviewRecord),
});
export type HeldPackage = z.infer<typeof HeldPackage>;

/** `GET /api/v1/reviews`. */
export const ReviewListResponse = z.object({ packages: z.array(HeldPackage) });
export type ReviewListResponse = z.infer<typeof ReviewListResponse>;
