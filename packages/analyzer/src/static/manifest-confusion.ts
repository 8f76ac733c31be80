// Manifest confusion: the registry's manifest of a version against the package.json inside its
// tarball. npm resolves dependencies from the registry's copy but runs the tarball's scripts and
// links the tarball's `bin`, so a difference in either hides what an install does. Pure.
import type { ManifestDifference } from '@secure-registry/shared';
import { INSTALL_EVENTS, isRecord } from './manifest.js';

/** The fields whose registry and tarball values must agree, and that the vetted registry serves from the tarball. */
export const CONFUSABLE_FIELDS = [
  'name',
  'version',
  'scripts',
  'dependencies',
  'optionalDependencies',
  'peerDependencies',
  'bin',
] as const;
export type ConfusableField = (typeof CONFUSABLE_FIELDS)[number];

/** `bin` as npm normalises it at publish: a name → path map, paths without `./`. */
function normaliseBin(bin: unknown, name: unknown): Record<string, string> | undefined {
  const bare = typeof name === 'string' ? name.replace(/^@[^/]+\//, '') : undefined;
  const entries: [string, string][] =
    typeof bin === 'string' && bare
      ? [[bare, bin]]
      : isRecord(bin)
        ? Object.entries(bin).filter((e): e is [string, string] => typeof e[1] === 'string')
        : [];
  if (entries.length === 0) return undefined;
  return Object.fromEntries(
    entries.map(([k, v]) => [k, v.replace(/^(\.\/)+/, '')] as const).sort(([a], [b]) => a.localeCompare(b)),
  );
}

/** Install-time scripts only (what npm runs when it installs a registry package). */
function installScripts(scripts: unknown, gypImplicit: boolean): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (isRecord(scripts))
    for (const event of INSTALL_EVENTS) {
      const command = scripts[event];
      if (typeof command === 'string' && command.trim() !== '') out[event] = command.trim();
    }
  // npm adds `install: node-gyp rebuild` at publish for a binding.gyp without install scripts.
  if (gypImplicit && out.install === undefined && out.preinstall === undefined)
    out.install = 'node-gyp rebuild';
  return Object.keys(out).length > 0 ? out : undefined;
}

function sortedRecord(value: unknown): Record<string, unknown> | undefined {
  if (!isRecord(value) || Object.keys(value).length === 0) return undefined;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)));
}

function comparable(
  field: ConfusableField,
  manifest: Record<string, unknown>,
  gypImplicit: boolean,
): unknown {
  switch (field) {
    case 'name':
    case 'version':
      return typeof manifest[field] === 'string' ? manifest[field] : undefined;
    case 'scripts':
      return installScripts(manifest.scripts, gypImplicit);
    case 'bin':
      return normaliseBin(manifest.bin, manifest.name);
    default:
      return sortedRecord(manifest[field]);
  }
}

/**
 * The confusable fields on which the registry's version manifest and the tarball's package.json
 * disagree. `gypImplicit`: the tarball has a binding.gyp that npm would build (no `gypfile: false`).
 */
export function compareManifests(
  registry: Record<string, unknown>,
  tarball: Record<string, unknown>,
  gypImplicit: boolean,
): ManifestDifference[] {
  const out: ManifestDifference[] = [];
  for (const field of CONFUSABLE_FIELDS) {
    const a = comparable(field, registry, gypImplicit);
    const b = comparable(field, tarball, gypImplicit);
    // A registry document without a name or version (a stub, a test double) names nothing to compare.
    if ((field === 'name' || field === 'version') && a === undefined) continue;
    const ja = a === undefined ? undefined : JSON.stringify(a);
    const jb = b === undefined ? undefined : JSON.stringify(b);
    if (ja === jb) continue;
    out.push({
      field,
      ...(ja !== undefined ? { registry: ja.slice(0, 500) } : {}),
      ...(jb !== undefined ? { tarball: jb.slice(0, 500) } : {}),
    });
  }
  return out;
}

/** The tarball's values of the confusable fields (absent ones left out): what the registry should serve. */
export function declaredFields(tarball: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of CONFUSABLE_FIELDS) if (tarball[field] !== undefined) out[field] = tarball[field];
  return out;
}
