import { z } from 'zod';
import type { LlmPolicy } from '../rules/policy.js';

/** The structured opinion an LLM investigator must return. */
export const Opinion = z.object({
  decision: z.enum(['approve', 'reject', 'escalate']),
  rationale: z.string().trim().min(1).max(4000),
  /** Ids of the evidence relied on: rule ids, `file:<path>[:line]`, `event:<seq>`, hosts. */
  evidence: z.array(z.string().trim().min(1).max(500)).max(50),
});
export type Opinion = z.infer<typeof Opinion>;

/** JSON schema of `Opinion`, given to the model as the `submit_opinion` tool's input. */
export const OPINION_JSON_SCHEMA = {
  type: 'object',
  properties: {
    decision: { type: 'string', enum: ['approve', 'reject', 'escalate'] },
    rationale: { type: 'string', description: 'why, in a few sentences a reviewer can check' },
    evidence: {
      type: 'array',
      items: { type: 'string' },
      description: 'ids of the evidence relied on: rule ids, file:<path>:<line>, event:<seq>, hosts',
    },
  },
  required: ['decision', 'rationale', 'evidence'],
  additionalProperties: false,
} as const;

export type ParsedOpinion = { ok: true; opinion: Opinion } | { ok: false; error: string };

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Validates an opinion given as tool-call arguments. */
export function validateOpinion(value: unknown): ParsedOpinion {
  const parsed = Opinion.safeParse(value);
  return parsed.success
    ? { ok: true, opinion: parsed.data }
    : { ok: false, error: `the opinion does not match the schema: ${describe(parsed.error)}` };
}

/**
 * Reads an opinion from a model's final text: a JSON object, optionally inside a ```json fence.
 * Anything else is malformed; nothing is guessed from prose.
 */
export function parseOpinionText(text: string): ParsedOpinion {
  const trimmed = text.trim();
  const fenced = /^```(?:json)?\s*\n([\s\S]*?)\n?```$/i.exec(trimmed);
  const body = fenced ? fenced[1]!.trim() : trimmed;
  if (!body.startsWith('{')) {
    return {
      ok: false,
      error: `the final answer is not a JSON object: ${JSON.stringify(trimmed.slice(0, 200))}`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    return {
      ok: false,
      error: `the final answer is not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    };
  }
  return validateOpinion(json);
}

export type AppliedVerdict = 'approved' | 'rejected' | 'review';

/**
 * What an opinion may do under the policy. `ruleVerdict` is the rules' verdict; `flagged` says
 * whether the rules held the package. Defaults: an LLM may reject or escalate on its own; its
 * approval of a flagged package leaves it held for a person.
 */
export function applyOpinion(input: {
  ruleVerdict: AppliedVerdict;
  opinion: Opinion;
  policy: LlmPolicy;
  model: string;
}): { verdict: AppliedVerdict; reason: string | undefined; changed: boolean } {
  const { ruleVerdict, opinion, policy, model } = input;
  const summary = opinion.rationale.split('\n')[0]!.slice(0, 300);
  const keep = { verdict: ruleVerdict, changed: false };
  if (ruleVerdict === 'rejected') return { ...keep, reason: undefined };
  switch (opinion.decision) {
    case 'reject':
      return policy.mayReject
        ? { verdict: 'rejected', reason: `rejected by LLM reviewer ${model}: ${summary}`, changed: true }
        : {
            verdict: 'review',
            reason: `LLM reviewer ${model} recommends rejection (a person decides): ${summary}`,
            changed: ruleVerdict !== 'review',
          };
    case 'escalate':
      return {
        verdict: 'review',
        reason: `escalated to a person by LLM reviewer ${model}: ${summary}`,
        changed: ruleVerdict !== 'review',
      };
    case 'approve':
      if (ruleVerdict === 'approved') return { ...keep, reason: undefined };
      return policy.mayApproveFlagged
        ? { verdict: 'approved', reason: undefined, changed: true }
        : { ...keep, reason: `LLM reviewer ${model} would approve; a person must confirm: ${summary}` };
  }
}
