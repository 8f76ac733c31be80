/**
 * Parsing of npm registry request paths. npm asks for scoped names as `/@scope%2fname` (either case
 * of `%2f`); pnpm, yarn and tarball URLs use `/@scope/name`. Everything is parsed from the raw path
 * so that an encoded slash is never confused with a path separator elsewhere.
 */
import * as semver from 'semver';
import { isValidPackageName, splitPackageName } from '@secure-registry/shared';

export type RegistryPath =
  | { kind: 'packument'; name: string }
  | { kind: 'version'; name: string; spec: string }
  | { kind: 'tarball'; name: string; file: string }
  | { kind: 'invalid'; error: string };

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Parses the path (query string ignored) of a registry read request. */
export function parseRegistryPath(rawUrl: string): RegistryPath {
  const queryAt = rawUrl.search(/[?#]/);
  const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
  if (!path.startsWith('/')) return { kind: 'invalid', error: 'not a registry path' };
  const raw = path.slice(1).split('/');
  const segments: string[] = [];
  for (const segment of raw) {
    const decoded = decodeSegment(segment);
    if (decoded === undefined) return { kind: 'invalid', error: 'malformed percent-encoding in the path' };
    segments.push(decoded);
  }
  let name: string;
  let rest: string[];
  const first = segments[0] ?? '';
  if (first.startsWith('@') && first.includes('/')) {
    name = first; // `@scope%2fname`
    rest = segments.slice(1);
  } else if (first.startsWith('@')) {
    name = `${first}/${segments[1] ?? ''}`;
    rest = segments.slice(2);
  } else {
    name = first;
    rest = segments.slice(1);
  }
  if (!isValidPackageName(name)) {
    return { kind: 'invalid', error: `not a valid package name: ${JSON.stringify(name.slice(0, 220))}` };
  }
  if (rest.length === 0 || (rest.length === 1 && rest[0] === '')) return { kind: 'packument', name };
  if (rest[0] === '-' && rest.length >= 2) {
    const file = rest[rest.length - 1]!;
    // `/@scope/name/-/@scope/name-1.0.0.tgz` (yarn v1) names the scope again before the file.
    const middle = rest.slice(1, -1);
    const scope = name.startsWith('@') ? name.slice(0, name.indexOf('/')) : undefined;
    if (middle.length === 0 || (middle.length === 1 && middle[0] === scope)) {
      return { kind: 'tarball', name, file };
    }
    // `/<name>/-/refused/<words>/<file>`: the URL given for a refused version (see refusedTarballUrl);
    // the words are for people and never trusted: the tarball route decides from the records.
    if (middle.length === 2 && middle[0] === REFUSED_SEGMENT) return { kind: 'tarball', name, file };
    return { kind: 'invalid', error: 'not a registry path' };
  }
  if (rest.length === 1 && rest[0] !== '-') return { kind: 'version', name, spec: rest[0]! };
  return { kind: 'invalid', error: 'not a registry path' };
}

/**
 * The version in a tarball file name `<bare name>-<version>.tgz`. The package name is known from
 * the path, so names with dashes (`left-pad-1.3.0.tgz`) and prerelease versions
 * (`x-1.0.0-beta.1.tgz`) are unambiguous. Returns undefined when the file does not belong to the
 * name or the version is not a normalised semver version.
 */
export function parseTarballVersion(name: string, file: string): string | undefined {
  const { bare } = splitPackageName(name);
  const prefix = `${bare}-`;
  if (!file.startsWith(prefix) || !file.endsWith('.tgz')) return undefined;
  const version = file.slice(prefix.length, -'.tgz'.length);
  return semver.valid(version) === version ? version : undefined;
}

const REFUSED_SEGMENT = 'refused';

function trimSlash(baseUrl: string): string {
  return baseUrl.endsWith('/') ? baseUrl.slice(0, -1) : baseUrl;
}

/** The URL of a tarball on this registry: `<base>/<name>/-/<bare>-<version>.tgz`. */
export function tarballUrl(baseUrl: string, name: string, version: string): string {
  return `${trimSlash(baseUrl)}/${name}/-/${splitPackageName(name).bare}-${version}.tgz`;
}

/**
 * The tarball URL published for a refused version: `<base>/<name>/-/refused/<words>/<file>`. It is
 * refused like the plain one, but says why in the URL (the only text pnpm prints for a refused
 * tarball), and no client cache holds an entry for it.
 */
export function refusedTarballUrl(baseUrl: string, name: string, version: string, words: string): string {
  const file = `${splitPackageName(name).bare}-${version}.tgz`;
  const safe = words.replace(/[^A-Za-z0-9@._~+-]+/g, '-') || 'refused';
  return `${trimSlash(baseUrl)}/${name}/-/${REFUSED_SEGMENT}/${safe}/${file}`;
}

/** Where a version's verdict and findings are (the API's package route). */
export function evidenceUrl(baseUrl: string, name: string, version: string): string {
  return `${trimSlash(baseUrl)}/api/v1/packages/${name}/${encodeURIComponent(version)}`;
}
