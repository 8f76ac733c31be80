import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { create as createTar } from 'tar';

/** Registry metadata for one fixture version that is not part of its package contents. */
export interface FixtureMeta {
  /** ISO timestamp of publication. Default: a fixed date derived from the version's rank. */
  publishedAt?: string;
  /** Publication time relative to the registry's start, in hours (for release-age signals). */
  publishedHoursAgo?: number;
  /** Who published this version (`_npmUser`). */
  npmUser?: { name: string; email?: string };
  /** The package's maintainers at the time of this version. */
  maintainers?: { name: string; email?: string }[];
  /** Whether this version carries a provenance attestation. */
  provenance?: boolean;
  /** Deprecation message. */
  deprecated?: string;
  /**
   * Manifest confusion: fields the registry publishes for this version instead of the tarball's
   * package.json (`null` removes a field), as a publisher talking to the registry's API directly can.
   */
  registryManifest?: Record<string, unknown>;
}

export interface PackageManifest {
  name: string;
  version: string;
  [key: string]: unknown;
}

/** A fixture package defined in code rather than on disk. */
export interface FixturePackage {
  /** The package.json contents (written as the tarball's package.json). */
  manifest: PackageManifest;
  /** Other files by path relative to the package root (`index.js`, `lib/a.js`). */
  files?: Record<string, string | Uint8Array>;
  meta?: FixtureMeta;
}

/** One packed fixture version, as the fixture registry serves it. */
export interface PackedVersion {
  name: string;
  version: string;
  /** The manifest as the registry publishes it (npm's publish-time normalisation applied). */
  manifest: PackageManifest;
  tarball: Buffer;
  /** `sha512-<base64>` of the tarball. */
  integrity: string;
  /** sha1 hex of the tarball. */
  shasum: string;
  fileCount: number;
  unpackedSize: number;
  hasInstallScript: boolean;
  meta: FixtureMeta;
  /** Where the fixture came from (a directory, or `inline`). */
  source: string;
}

/** The sidecar file holding a fixture version's registry metadata; never packed. */
export const FIXTURE_META_FILE = 'fixture-meta.json';

/** Fixed mtime for every tar entry, so a fixture's integrity is the same on every run. */
const FIXED_MTIME = new Date('1985-10-26T08:15:00.000Z');
const SKIPPED = new Set([FIXTURE_META_FILE, 'node_modules', '.git', '.DS_Store']);
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'];

/** Sorted relative file paths under `dir` (forward slashes), skipping sidecar and VCS files. */
export async function listPackageFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (SKIPPED.has(entry.name)) continue;
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile()) out.push(child);
    }
  }
  await walk('');
  return out;
}

/** Packs a directory the way `npm pack` does: gzip, entries under `package/`, fixed mtime. */
export async function packDirectory(dir: string, files: string[]): Promise<Buffer> {
  const stream = createTar(
    { gzip: true, cwd: dir, portable: true, mtime: FIXED_MTIME, prefix: 'package' },
    files,
  );
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Applies the manifest normalisation npm performs at publish time that matters to installers. */
export function normalizeManifest(manifest: PackageManifest, files: readonly string[]): PackageManifest {
  const out: PackageManifest = { ...manifest };
  const scripts = { ...((manifest.scripts as Record<string, string> | undefined) ?? {}) };
  if (files.includes('binding.gyp') && !scripts.install && !scripts.preinstall) {
    scripts.install = 'node-gyp rebuild';
    out.gypfile = true;
  }
  if (Object.keys(scripts).length > 0) out.scripts = scripts;
  return out;
}

async function packFromDirectory(dir: string, meta: FixtureMeta, source: string): Promise<PackedVersion> {
  const raw = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as Partial<PackageManifest>;
  if (typeof raw.name !== 'string' || typeof raw.version !== 'string') {
    throw new Error(`fixture ${source}: package.json needs a string name and version`);
  }
  const files = await listPackageFiles(dir);
  const tarball = await packDirectory(dir, files);
  let unpackedSize = 0;
  for (const file of files) unpackedSize += (await stat(path.join(dir, file))).size;
  const manifest = withRegistryFields(
    normalizeManifest(raw as PackageManifest, files),
    meta.registryManifest,
  );
  const scripts = (manifest.scripts as Record<string, string> | undefined) ?? {};
  return {
    name: raw.name,
    version: raw.version,
    manifest,
    tarball,
    integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
    shasum: createHash('sha1').update(tarball).digest('hex'),
    fileCount: files.length,
    unpackedSize,
    hasInstallScript: INSTALL_SCRIPTS.some((s) => typeof scripts[s] === 'string'),
    meta,
    source,
  };
}

function withRegistryFields(manifest: PackageManifest, fields?: Record<string, unknown>): PackageManifest {
  if (!fields) return manifest;
  const out: Record<string, unknown> = { ...manifest };
  for (const [key, value] of Object.entries(fields)) {
    if (value === null) delete out[key];
    else out[key] = value;
  }
  return out as PackageManifest;
}

async function readMeta(dir: string): Promise<FixtureMeta> {
  try {
    return JSON.parse(await readFile(path.join(dir, FIXTURE_META_FILE), 'utf8')) as FixtureMeta;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}

/** Packs a fixture package defined in code (written to a temporary directory first). */
export async function packInline(pkg: FixturePackage): Promise<PackedVersion> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sr-fixture-'));
  try {
    await writeFile(path.join(dir, 'package.json'), `${JSON.stringify(pkg.manifest, null, 2)}\n`);
    for (const [rel, content] of Object.entries(pkg.files ?? {})) {
      if (rel === 'package.json') continue;
      const target = path.join(dir, rel);
      if (!target.startsWith(dir + path.sep)) throw new Error(`fixture file escapes the package: ${rel}`);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, content);
    }
    return await packFromDirectory(
      dir,
      pkg.meta ?? {},
      `inline:${pkg.manifest.name}@${pkg.manifest.version}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Packs every fixture package under `root`: each directory holding a package.json is one
 * version (`<group>/<slug>/<version>/` or `<group>/<slug>/`); others are searched recursively.
 */
export async function packFixtureTree(root: string): Promise<PackedVersion[]> {
  const out: PackedVersion[] = [];
  async function visit(dir: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    if (entries.some((e) => e.isFile() && e.name === 'package.json')) {
      out.push(await packFromDirectory(dir, await readMeta(dir), path.relative(root, dir) || '.'));
      return;
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory() && !SKIPPED.has(entry.name)) await visit(path.join(dir, entry.name));
    }
  }
  await visit(root);
  return out;
}
