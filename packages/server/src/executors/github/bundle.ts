// The analysis artifact a runner downloads: one phase of one package as a self-contained JSON document
// (the run's options without host paths, the package's files and its dependencies' files), with its
// SHA-256 integrity. Symlinks are kept as links; nothing outside the listed directories is read.
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { PhaseRunOptions } from '@secure-registry/analyzer';

interface BundleEntry {
  path: string;
  mode: number;
  /** base64 content of a file. */
  data?: string;
  /** Target of a symlink. */
  link?: string;
}

interface BundleTree {
  entries: BundleEntry[];
}

export type BundledOptions = Omit<PhaseRunOptions, 'packageDir' | 'dependencies' | 'nodePath'>;

export interface Bundle {
  format: 1;
  options: BundledOptions;
  package: BundleTree;
  dependencies: { name: string; path?: string; tree: BundleTree }[];
}

async function readTree(root: string): Promise<BundleTree> {
  const entries: BundleEntry[] = [];
  async function walk(dir: string): Promise<void> {
    for (const name of (await readdir(dir)).sort()) {
      const full = join(dir, name);
      const info = await lstat(full);
      const path = relative(root, full).split(sep).join('/');
      if (info.isSymbolicLink()) entries.push({ path, mode: 0o777, link: await readlink(full) });
      else if (info.isDirectory()) await walk(full);
      else if (info.isFile())
        entries.push({ path, mode: info.mode & 0o777, data: (await readFile(full)).toString('base64') });
    }
  }
  await walk(root);
  return { entries };
}

async function writeTree(tree: BundleTree, root: string): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const entry of tree.entries) {
    const target = resolve(root, entry.path);
    if (!target.startsWith(resolve(root) + sep))
      throw new Error(`bundle path escapes its directory: ${entry.path}`);
    await mkdir(dirname(target), { recursive: true });
    if (entry.link !== undefined) await symlink(entry.link, target);
    else await writeFile(target, Buffer.from(entry.data ?? '', 'base64'), { mode: entry.mode & 0o777 });
  }
}

export function integrityOf(bytes: Buffer): string {
  return `sha256-${createHash('sha256').update(bytes).digest('base64')}`;
}

export async function packBundle(options: PhaseRunOptions): Promise<Buffer> {
  const { packageDir, dependencies = [], nodePath: _nodePath, ...rest } = options;
  const bundle: Bundle = {
    format: 1,
    options: rest,
    package: await readTree(packageDir),
    dependencies: await Promise.all(
      dependencies.map(async (dep) => ({
        name: dep.name,
        ...(dep.path !== undefined && { path: dep.path }),
        tree: await readTree(dep.dir),
      })),
    ),
  };
  return Buffer.from(JSON.stringify(bundle));
}

/** Checks the integrity, writes the trees under `dir` and returns the options pointing at them. */
export async function unpackBundle(bytes: Buffer, integrity: string, dir: string): Promise<PhaseRunOptions> {
  const actual = integrityOf(bytes);
  if (actual !== integrity)
    throw new Error(`artifact integrity mismatch: expected ${integrity}, got ${actual}`);
  const bundle = JSON.parse(bytes.toString('utf8')) as Bundle;
  if (bundle.format !== 1) throw new Error(`unknown artifact format ${String(bundle.format)}`);
  const packageDir = join(dir, 'package');
  await writeTree(bundle.package, packageDir);
  const dependencies = [];
  for (const [index, dep] of bundle.dependencies.entries()) {
    const depDir = join(dir, 'deps', String(index));
    await writeTree(dep.tree, depDir);
    dependencies.push({ name: dep.name, dir: depDir, ...(dep.path !== undefined && { path: dep.path }) });
  }
  return { ...bundle.options, packageDir, dependencies };
}
