import { hasNulByte, npmNameProblem, NUL_BYTE_MESSAGE, UserError } from '@secure-registry/shared';

export { formatZodIssues } from '@secure-registry/shared';

/** Refuses a route parameter or query value holding a NUL byte (PostgreSQL cannot store one). */
export function checkParam(label: string, value: string | undefined): void {
  if (value !== undefined && hasNulByte(value)) {
    throw new UserError('ERR_SR_INVALID_PARAM', `${label}: ${NUL_BYTE_MESSAGE}`);
  }
}

/** Refuses a package name npm could not have published, with npm's reason. */
export function checkPackageName(name: string): void {
  const problem = npmNameProblem(name);
  if (problem) throw new UserError('ERR_SR_INVALID_NAME', problem);
}
