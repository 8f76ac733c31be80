// Where packages go in the sandbox's project (npm's install paths) and how they get there: shared by
// the single run (a package and its dependencies) and the batch run (many packages).
import { readFileSync } from 'node:fs';
import { chmod, lstat, mkdir, realpath, symlink } from 'node:fs/promises';
import { join, posix, sep } from 'node:path';
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

/** A manifest's `bin` as npm normalizes it (npm-normalize-package-bin): link name → path in the package. */
export function packageBins(manifest: { name?: unknown; bin?: unknown }): Record<string, string> {
  let bin = manifest.bin;
  if (typeof bin === 'string') bin = typeof manifest.name === 'string' ? { [manifest.name]: bin } : {};
  if (Array.isArray(bin))
    bin = Object.fromEntries(
      bin.filter((b) => typeof b === 'string').map((b: string) => [posix.basename(b), b]),
    );
  if (typeof bin !== 'object' || bin === null) return {};
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(bin)) {
    const name = posix.join('/', posix.basename(key.replace(/\\|:/g, '/'))).slice(1);
    if (typeof value !== 'string' || !name) continue;
    const target = posix.join('/', value.replace(/\\/g, '/')).slice(1);
    if (target) out[name] = target;
  }
  return out;
}

const present = (path: string): Promise<boolean> => lstat(path).then(Boolean, () => false);

/**
 * What npm does before the install scripts run: each package's bins linked in the `.bin` of the
 * node_modules it sits in (`node_modules/.bin/x` → `../a/cli.js`), their targets made executable. The
 * first package placed keeps a name. Targets outside their package (through links) are left alone.
 */
export async function linkBins(projectDir: string, placed: { dir: string; path: string }[]): Promise<void> {
  for (const pkg of placed) {
    let manifest: { name?: unknown; bin?: unknown };
    try {
      manifest = JSON.parse(readFileSync(join(pkg.dir, 'package.json'), 'utf8')) as typeof manifest;
    } catch {
      continue;
    }
    const bins = Object.entries(packageBins(manifest));
    if (bins.length === 0) continue;
    const chain = pkg.path.slice('node_modules/'.length).split('/node_modules/');
    const dotBin = ['node_modules', ...chain.slice(0, -1).flatMap((n) => [n, 'node_modules']), '.bin'].join(
      '/',
    );
    const root = await realpath(join(projectDir, pkg.path));
    for (const [name, target] of bins) {
      const link = join(projectDir, dotBin, name);
      if (await present(link)) continue;
      const resolved = await realpath(join(projectDir, pkg.path, target)).catch(() => undefined);
      if (!resolved?.startsWith(root + sep) || !(await lstat(resolved)).isFile()) continue;
      await mkdir(join(projectDir, dotBin), { recursive: true });
      await symlink(posix.relative(dotBin, posix.join(pkg.path, target)), link);
      await chmod(resolved, 0o755);
    }
  }
}
