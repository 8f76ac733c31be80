import { createHash } from 'node:crypto';
import semver from 'semver';
import { z } from 'zod';
import { Severity, severityRank } from '@secure-registry/shared';

/**
 * The verdict policy: how findings become verdicts. Validated with zod; its version (a hash of
 * the normalised policy) is recorded with every verdict it produced.
 */

function splitSpec(spec: string): { name: string; range: string } | null {
  const at = spec.lastIndexOf('@');
  if (at <= 0) return null;
  return { name: spec.slice(0, at), range: spec.slice(at + 1) };
}

export const PolicyException = z.object({
  /** `name@semver-range`, e.g. `left-pad@^1.3.0` or `@scope/pkg@1.2.3`. */
  package: z.string().refine((spec) => {
    const parts = splitSpec(spec);
    return parts !== null && semver.validRange(parts.range) !== null;
  }, 'expected name@semver-range'),
  /** Only these rules are waived; all rules when omitted. */
  rules: z.array(z.string().min(1)).optional(),
  reason: z.string().min(1),
  /** ISO date or date-time; the exception is ignored from this moment on. */
  expires: z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'expected an ISO date'),
});
export type PolicyException = z.infer<typeof PolicyException>;

/**
 * What the LLM investigator does and what its opinions may decide. Optional in the policy so that
 * policies without it keep their version; `resolveLlmPolicy` fills the defaults.
 */
export const LlmPolicy = z.object({
  /** `review`: packages the rules hold; `review-and-install-scripts`: also approved ones with install scripts. */
  investigate: z.enum(['review', 'review-and-install-scripts']).default('review'),
  /** Whether an LLM `reject` rejects on its own (else the package stays held for a person). */
  mayReject: z.boolean().default(true),
  /** Whether an LLM `approve` of a package the rules held approves it without a person. */
  mayApproveFlagged: z.boolean().default(false),
  /** Model round trips per investigation. */
  maxSteps: z.number().int().min(1).max(100).default(12),
  /** Input plus output tokens per investigation, as the provider reports them. */
  maxTokens: z.number().int().min(1000).max(10_000_000).default(200_000),
  /** Wall-clock limit of one investigation in milliseconds. */
  timeoutMs: z.number().int().min(1000).max(3_600_000).default(180_000),
});
export type LlmPolicy = z.infer<typeof LlmPolicy>;

export const Policy = z
  .object({
    thresholds: z
      .object({
        /** Findings at or above this severity reject the artifact. */
        rejected: Severity.default('critical'),
        /** Findings at or above this severity (and below `rejected`) hold it for review. */
        review: Severity.default('high'),
      })
      .default({ rejected: 'critical', review: 'high' }),
    exceptions: z.array(PolicyException).default([]),
    /** Releases younger than this many hours are held for review; 0 turns the check off. */
    minReleaseAgeHours: z.number().nonnegative().default(0),
    /** Whether an analysis error holds the artifact (closed) or is ignored (open). */
    onError: z.enum(['fail-closed', 'fail-open']).default('fail-closed'),
    /** The LLM investigator's settings (see `LlmPolicy`); defaults when omitted. */
    llm: LlmPolicy.optional(),
  })
  .refine((p) => severityRank(p.thresholds.review) <= severityRank(p.thresholds.rejected), {
    message: 'thresholds.review must not be above thresholds.rejected',
    path: ['thresholds', 'review'],
  });
export type Policy = z.infer<typeof Policy>;

export const DEFAULT_POLICY: Policy = Policy.parse({});

/** The LLM settings of a policy with every default filled in. */
export function resolveLlmPolicy(policy: Policy): LlmPolicy {
  return LlmPolicy.parse(policy.llm ?? {});
}

/** Parses a policy document; throws zod's error with the offending paths on bad input. */
export function parsePolicy(input: unknown): Policy {
  return Policy.parse(input);
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** A short stable id of a policy's content, recorded with verdicts. */
export function policyVersion(policy: Policy): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(policy)))
    .digest('hex')
    .slice(0, 12);
}

/** The exceptions that apply to name@version at `now` (expired ones never apply). */
export function activeExceptions(
  policy: Policy,
  name: string,
  version: string,
  now: Date,
): PolicyException[] {
  return policy.exceptions.filter((exception) => {
    const parts = splitSpec(exception.package);
    if (!parts || parts.name !== name) return false;
    if (Date.parse(exception.expires) <= now.getTime()) return false;
    return (
      semver.valid(version) !== null && semver.satisfies(version, parts.range, { includePrerelease: true })
    );
  });
}
