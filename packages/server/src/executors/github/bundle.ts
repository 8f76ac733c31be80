// The analysis artifact a runner downloads, with its SHA-256 integrity: a self-contained JSON document,
// either one phase of one package (`Bundle`: the run's options without host paths, the package's files
// and its dependencies' files) or the import/browser phase of several packages run together in one
// sandbox (`BatchBundle`: the analyzer's batch options and each package's files). Symlinks are kept as
// links; nothing outside the listed directories is read.
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { BatchRunOptions, PhaseRunOptions } from '@secure-registry/analyzer';

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
  kind?: 'run';
  options: BundledOptions;
  package: BundleTree;
  dependencies: { name: string; path?: string; tree: BundleTree }[];
}

export type BundledBatchOptions = Omit<BatchRunOptions, 'packages' | 'nodePath'>;

export interface BatchBundle {
  format: 1;
  kind: 'batch';
  options: BundledBatchOptions;
  packages: { name: string; version: string; path?: string; run?: boolean; tree: BundleTree }[];
}

/** What a runner unpacked: one phase run's options, or a batch's. */
export type UnpackedArtifact =
  { kind: 'run'; options: PhaseRunOptions } | { kind: 'batch'; options: BatchRunOptions };

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

/** A batch (the analyzer's `runBatch` options) as one artifact: each package's files under its name. */
export async function packBatchBundle(options: BatchRunOptions): Promise<Buffer> {
  const { packages, nodePath: _nodePath, ...rest } = options;
  const bundle: BatchBundle = {
    format: 1,
    kind: 'batch',
    options: rest,
    packages: await Promise.all(
      packages.map(async (p) => ({
        name: p.name,
        version: p.version,
        ...(p.path !== undefined && { path: p.path }),
        ...(p.run !== undefined && { run: p.run }),
        tree: await readTree(p.dir),
      })),
    ),
  };
  return Buffer.from(JSON.stringify(bundle));
}

/** Checks the integrity, writes the trees under `dir` and returns the options pointing at them. */
export async function unpackArtifact(
  bytes: Buffer,
  integrity: string,
  dir: string,
): Promise<UnpackedArtifact> {
  const actual = integrityOf(bytes);
  if (actual !== integrity)
    throw new Error(`artifact integrity mismatch: expected ${integrity}, got ${actual}`);
  const bundle = JSON.parse(bytes.toString('utf8')) as Bundle | BatchBundle;
  if (bundle.format !== 1) throw new Error(`unknown artifact format ${String(bundle.format)}`);
  if (bundle.kind === 'batch') {
    const packages = [];
    for (const [index, p] of bundle.packages.entries()) {
      const packageDir = join(dir, 'packages', String(index));
      await writeTree(p.tree, packageDir);
      packages.push({
        name: p.name,
        version: p.version,
        dir: packageDir,
        ...(p.path !== undefined && { path: p.path }),
        ...(p.run !== undefined && { run: p.run }),
      });
    }
    return { kind: 'batch', options: { ...bundle.options, packages } };
  }
  if (bundle.kind !== undefined && bundle.kind !== 'run')
    throw new Error(`unknown artifact kind ${String(bundle.kind)}`);
  const packageDir = join(dir, 'package');
  await writeTree(bundle.package, packageDir);
  const dependencies = [];
  for (const [index, dep] of bundle.dependencies.entries()) {
    const depDir = join(dir, 'deps', String(index));
    await writeTree(dep.tree, depDir);
    dependencies.push({ name: dep.name, dir: depDir, ...(dep.path !== undefined && { path: dep.path }) });
  }
  return { kind: 'run', options: { ...bundle.options, packageDir, dependencies } };
}
