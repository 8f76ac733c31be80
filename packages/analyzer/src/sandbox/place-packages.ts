// Where packages go in the sandbox's project (npm's install paths) and how they get there: shared by
// the single run (a package and its dependencies) and the batch run (many packages).
import { posix } from 'node:path';
import { runCommand } from './host-ops.js';

const NAME = /^(?:@[a-z0-9][\w.-]*\/)?[a-z0-9_.][\w.-]*$/i;

/**
 * The install location of a package relative to the project (`node_modules/<name>` unless `path`
 * says otherwise, e.g. `node_modules/a/node_modules/b`); refuses names and paths that escape or are
 * not a chain of `node_modules/<package name>` ending in the package's own name.
 */
export function installPath(pkg: { name: string; path?: string | undefined }): string {
  if (!NAME.test(pkg.name)) throw new Error(`invalid package name: ${JSON.stringify(pkg.name)}`);
  const path = posix.normalize(pkg.path ?? `node_modules/${pkg.name}`);
  const chain = path.startsWith('node_modules/')
    ? path.slice('node_modules/'.length).split('/node_modules/')
    : [];
  if (
    chain.length === 0 ||
    !chain.every((name) => NAME.test(name) && name !== '.' && name !== '..') ||
    chain.at(-1) !== pkg.name
  )
    throw new Error(`invalid install path for ${pkg.name}: ${JSON.stringify(pkg.path)}`);
  return path;
}

/**
 * Copies every package with one shell (cp -a keeps modes and symlinks as they are), in the given
 * order: a package copied later into a directory below an earlier one merges into it. Trusted host
 * command; much faster than one copy call per directory for hundreds of packages.
 */
export async function copyPackages(pairs: { from: string; to: string }[]): Promise<void> {
  const script = 'while [ $# -gt 1 ]; do mkdir -p "$2" && cp -a "$1/." "$2/" || exit 1; shift 2; done';
  for (let i = 0; i < pairs.length; i += 500) {
    const args = pairs.slice(i, i + 500).flatMap((p) => [p.from, p.to]);
    const result = await runCommand('sh', ['-c', script, 'sh', ...args], { timeoutMs: 300_000 });
    if (result.code !== 0) throw new Error(`copying packages failed: ${result.stderr.trim().slice(0, 500)}`);
  }
}
