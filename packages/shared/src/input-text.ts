import semver from 'semver';
import validateNpmPackageName from 'validate-npm-package-name';
import { z } from 'zod';

/** Checks shared by every string that comes from a client (API bodies, route params, MCP args). */

export const NUL_BYTE_MESSAGE = 'must not contain a NUL byte';

export function hasNulByte(value: string): boolean {
  return value.includes('\u0000');
}

/**
 * A client-supplied string of at most `max` characters (at least `min`) without NUL bytes:
 * PostgreSQL cannot store NUL in text, so it is refused here with a 400 rather than a 500 later.
 */
export function inputText(max: number, min = 0) {
  return z
    .string()
    .min(min)
    .max(max)
    .refine((value) => !hasNulByte(value), NUL_BYTE_MESSAGE);
}

/**
 * Why `name` is not a package name npm could have published, or undefined when it is one.
 * npm's own rules (`validate-npm-package-name`), accepting names valid for old packages
 * (capitals, core module names) since those exist on the registry.
 */
export function npmNameProblem(name: string): string | undefined {
  if (validateNpmPackageName(name).validForOldPackages) return undefined;
  return `${JSON.stringify(name)} is not a valid npm package name`;
}

/** Why `version` is not an exact semver version, or undefined when it is one. */
export function semverVersionProblem(version: string): string | undefined {
  if (/^\d/.test(version) && semver.valid(version) !== null) return undefined;
  return `${JSON.stringify(version)} is not a valid semver version`;
}

/** A package name field: bounded, no NUL, and valid by npm's rules. */
export const npmPackageName = inputText(214, 1).superRefine((value, ctx) => {
  const problem = npmNameProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** An exact version field: bounded, no NUL, and valid semver. */
export const semverVersion = inputText(256, 1).superRefine((value, ctx) => {
  const problem = semverVersionProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
