import { splitPackageName } from '@secure-registry/shared';
import type { SourceKind } from '@secure-registry/shared';

const GIT_PATTERN = /^(?:git\+|git:|github:|gitlab:|bitbucket:|gist:)/i;

/**
 * Classifies where a lockfile entry comes from. A URL is a registry source only when it is the
 * conventional registry tarball of exactly this package version (`…/<name>/-/<bare>-<version>.tgz`);
 * any other URL is a tarball source that cannot be matched to a published version.
 */
export function classifySource(input: {
  name: string;
  version: string;
  resolved: string | null | undefined;
  isLink?: boolean;
}): SourceKind {
  if (input.isLink) return 'link';
  const resolved = input.resolved;
  // No `resolved` means npm would fetch name@version from the configured registry.
  if (!resolved) return 'registry';
  if (GIT_PATTERN.test(resolved)) return 'git';
  if (/^file:/i.test(resolved)) return 'file';
  if (/^https?:\/\//i.test(resolved)) {
    return isRegistryTarballUrl(resolved, input.name, input.version) ? 'registry' : 'tarball';
  }
  // A bare relative or absolute path.
  return 'file';
}

export function isRegistryTarballUrl(resolved: string, name: string, version: string): boolean {
  let url: URL;
  try {
    url = new URL(resolved);
  } catch {
    return false;
  }
  if (url.search || url.hash) return false;
  let bare: string;
  try {
    bare = splitPackageName(name).bare;
  } catch {
    return false;
  }
  const path = decodeURIComponent(url.pathname);
  return path.endsWith(`/${name}/-/${bare}-${version}.tgz`);
}
