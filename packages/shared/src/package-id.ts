/** Package names and ids, validated the way the npm registry validates them. */

const NAME_PATTERN = /^(?:@([a-z0-9][a-z0-9._~-]*)\/)?([a-z0-9][a-z0-9._~-]*)$/;
// Versions published before the lowercase rule may contain capitals; accept them but nothing
// that could escape a path or a URL segment.
const LEGACY_NAME_PATTERN = /^(?:@([A-Za-z0-9][A-Za-z0-9._~-]*)\/)?([A-Za-z0-9][A-Za-z0-9._~-]*)$/;

export function isValidPackageName(name: string): boolean {
  return name.length > 0 && name.length <= 214 && LEGACY_NAME_PATTERN.test(name);
}

export function isStrictPackageName(name: string): boolean {
  return name.length <= 214 && NAME_PATTERN.test(name);
}

export function splitPackageName(name: string): { scope: string | undefined; bare: string } {
  const match = LEGACY_NAME_PATTERN.exec(name);
  if (!match) throw new TypeError(`invalid package name: ${JSON.stringify(name)}`);
  return { scope: match[1], bare: match[2]! };
}

/** `name@version`, the human form of a package version. */
export function formatPackageVersion(name: string, version: string): string {
  return `${name}@${version}`;
}

/** Parses `name@version` (scoped or not); the version part may be absent. */
export function parsePackageSpec(spec: string): { name: string; version: string | undefined } {
  const at = spec.indexOf('@', spec.startsWith('@') ? 1 : 0);
  if (at === -1) return { name: spec, version: undefined };
  return { name: spec.slice(0, at), version: spec.slice(at + 1) || undefined };
}

/** The URL path segment for a package name: scoped names keep `@` and encode the slash. */
export function encodePackageName(name: string): string {
  return name.startsWith('@') ? `@${encodeURIComponent(name.slice(1))}` : encodeURIComponent(name);
}

/** The conventional tarball file name: `name-1.0.0.tgz` (the bare name for scoped packages). */
export function tarballFileName(name: string, version: string): string {
  return `${splitPackageName(name).bare}-${version}.tgz`;
}
