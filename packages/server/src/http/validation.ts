import { hasNulByte, NUL_BYTE_MESSAGE, npmNameProblem } from '@secure-registry/shared';
import type { z } from 'zod';
import { HttpError } from './errors.js';

/** `graph.nodes[3].name`: the path of a validation issue, as a reader would write it. */
function formatIssuePath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text ? `.${String(segment)}` : String(segment);
  }
  return text;
}

/** A short, single-line description of the first few validation issues. */
export function formatZodIssues(error: z.ZodError, max = 5): string {
  const parts = error.issues.slice(0, max).map((issue) => {
    const path = formatIssuePath(issue.path);
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  const more = error.issues.length > max ? ` (and ${error.issues.length - max} more)` : '';
  return parts.join('; ') + more;
}

/** Refuses a route parameter or query value holding a NUL byte (PostgreSQL cannot store one). */
export function checkParam(label: string, value: string | undefined): void {
  if (value !== undefined && hasNulByte(value)) {
    throw new HttpError(400, 'ERR_SR_INVALID_PARAM', `${label}: ${NUL_BYTE_MESSAGE}`);
  }
}

/** Refuses a package name npm could not have published, with npm's reason. */
export function checkPackageName(name: string): void {
  const problem = npmNameProblem(name);
  if (problem) throw new HttpError(400, 'ERR_SR_INVALID_NAME', problem);
}
