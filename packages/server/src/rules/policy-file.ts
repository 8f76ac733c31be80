import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { z } from 'zod';
import { UserError } from '@secure-registry/shared';
import { DEFAULT_POLICY, Policy, policyVersion } from './policy.js';

/** A validated policy and where it came from. */
export interface LoadedPolicy {
  policy: Policy;
  /** Hash of the policy's canonical JSON (defaults filled in); recorded with every verdict. */
  version: string;
  /** The absolute path of the file, or `default` for the built-in policy. */
  source: string;
}

export function defaultPolicy(): LoadedPolicy {
  return { policy: DEFAULT_POLICY, version: policyVersion(DEFAULT_POLICY), source: 'default' };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

/** Parses the text of a policy file. Throws a UserError naming the file and the bad fields. */
export function parsePolicyText(text: string, source: string): LoadedPolicy {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UserError(
      'ERR_SR_POLICY',
      `policy file ${source} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      { hint: 'the policy is a JSON object; see docs/policy.md' },
    );
  }
  const parsed = Policy.safeParse(json);
  if (!parsed.success) {
    throw new UserError(
      'ERR_SR_POLICY',
      `policy file ${source} is invalid: ${describeIssues(parsed.error)}`,
      {
        hint: 'see docs/policy.md for the fields of a policy',
      },
    );
  }
  return { policy: parsed.data, version: policyVersion(parsed.data), source };
}

/** Reads and validates a policy file. */
export async function loadPolicyFile(path: string): Promise<LoadedPolicy> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new UserError(
      'ERR_SR_POLICY',
      `cannot read policy file ${path}${typeof code === 'string' ? ` (${code})` : ''}`,
      { hint: `check the path given by --policy or SR_POLICY_FILE` },
    );
  }
  return parsePolicyText(text, path);
}

/**
 * The policy in force: the file given by `file` (a `--policy` flag or `$SR_POLICY_FILE`, parsed by
 * ../config), else the built-in default. Relative paths resolve against `cwd`.
 */
export async function resolvePolicy(options: {
  file?: string | undefined;
  cwd: string;
}): Promise<LoadedPolicy> {
  const raw = options.file?.trim();
  if (!raw) return defaultPolicy();
  return loadPolicyFile(resolve(options.cwd, raw));
}
