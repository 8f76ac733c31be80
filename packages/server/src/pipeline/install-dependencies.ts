// The dependencies a package's install scripts find in node_modules, the way npm would have installed
// them: the tree npm would resolve (./dependency-tree.ts), each tarball verified against upstream's
// dist.integrity, kept in the artifact store (content addressed: a later analysis reuses it without
// fetching it again) and extracted with the safe reader into a temporary directory.
//
// The dependencies are only present: their own install scripts are NOT run in the analysed package's
// run (each dependency is analysed as its own artifact, with its own verdict).
import { artifactKey, isArtifactMissing } from '../artifacts/artifact-store.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { integritiesMatch, parseIntegrity } from '@secure-registry/shared';
import type { Packument, RegistryClient } from '../upstream/registry-client.js';
import { resolveTree, type TreeNode } from './dependency-tree.js';
import { computeIntegrity, upstreamIntegrity } from './integrity.js';
import { writePackageDir, type PackageDir } from './package-dir.js';

/** At most this many dependencies are present in one run; beyond it the tree is left incomplete. */
export const MAX_DEPENDENCY_PACKAGES = 400;
/** At most this many bytes of dependency files (unpacked) in one run. */
export const MAX_DEPENDENCY_BYTES = 512 * 1024 * 1024;
/** Packument and tarball fetches in flight at once. */
export const DEPENDENCY_FETCH_CONCURRENCY = 8;

export interface InstallDependenciesOptions {
  registry: Pick<RegistryClient, 'getPackument' | 'getTarball'>;
  artifacts: ArtifactStore;
  /** Default MAX_DEPENDENCY_PACKAGES. */
  maxPackages?: number;
  /** Default MAX_DEPENDENCY_BYTES. */
  maxUnpackedBytes?: number;
  /** Default DEPENDENCY_FETCH_CONCURRENCY. */
  concurrency?: number;
}

export interface PresentDependency {
  name: string;
  version: string;
  /** The extracted files on the host. */
  dir: string;
  /** npm's install path relative to the project (`node_modules/a/node_modules/b`). */
  path: string;
}

export interface InstalledDependencies {
  /** In placement order (parents before what is nested in them). */
  dependencies: PresentDependency[];
  /** What is missing that npm would have installed, and why (the run goes ahead without it). */
  issues: string[];
  /** Optional dependencies npm would skip as well (another platform, not resolvable). */
  skipped: string[];
  /** Unpacked bytes and files of the dependencies present. */
  bytes: number;
  files: number;
  /** Removes every temporary directory. */
  cleanup(): Promise<void>;
}

export interface AnalysedPackage {
  name: string;
  version: string;
  /** Its package.json (from the tarball being analysed). */
  manifest: Record<string, unknown>;
}

export type DependencyInstaller = (
  pkg: AnalysedPackage,
  signal: AbortSignal,
) => Promise<InstalledDependencies>;

/** Runs at most `limit` of the calls at once. */
function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Upstream requests in flight at once for all the installations of one installer. */
export const DEPENDENCY_UPSTREAM_CONCURRENCY = 16;

/**
 * The installer the dynamic stage uses: every installation shares one bound on upstream requests
 * (many artifacts are analysed at once). Failures worth retrying (network, timeouts, 5xx, 429) are
 * retried by the registry client itself (SR_UPSTREAM_TIMEOUT_MS, a bounded number of attempts);
 * retrying here again would multiply the attempts.
 */
export function createDependencyInstaller(options: InstallDependenciesOptions): DependencyInstaller {
  const limit = limiter(DEPENDENCY_UPSTREAM_CONCURRENCY);
  const { registry } = options;
  const shared: InstallDependenciesOptions['registry'] = {
    getPackument: (name, o) => limit(() => registry.getPackument(name, o)),
    getTarball: (url, o) => limit(() => registry.getTarball(url, o)),
  };
  return (pkg, signal) => installDependencies(pkg, signal, { ...options, registry: shared });
}

/**
 * Resolves, fetches (or reuses from the store), verifies and extracts the dependencies of `pkg`.
 * Failures of single dependencies become issues (or, for optional ones, skips); only an abort throws
 * (after removing what was extracted).
 */
export async function installDependencies(
  pkg: AnalysedPackage,
  signal: AbortSignal,
  options: InstallDependenciesOptions,
): Promise<InstalledDependencies> {
  const maxBytes = options.maxUnpackedBytes ?? MAX_DEPENDENCY_BYTES;
  const limit = limiter(options.concurrency ?? DEPENDENCY_FETCH_CONCURRENCY);
  const packuments = new Map<string, Promise<Packument>>();
  const tree = await resolveTree({
    root: pkg,
    signal,
    maxPackages: options.maxPackages ?? MAX_DEPENDENCY_PACKAGES,
    maxUnpackedBytes: maxBytes,
    getPackument: (name) => {
      let found = packuments.get(name);
      if (!found) {
        found = limit(() => options.registry.getPackument(name, { signal }));
        packuments.set(name, found);
      }
      return found;
    },
  });
  packuments.clear();
  const issues = [...tree.issues];
  const skipped = [...tree.skipped];
  const dirs: PackageDir[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.all(dirs.map((d) => d.cleanup()));
  };
  const dependencies: PresentDependency[] = [];
  let bytes = 0;
  let files = 0;
  // A few tarballs are fetched and extracted ahead; they are taken in placement order (the same tree
  // gives the same set of dependencies when the size limit is reached).
  const ready = tree.nodes.map(() => undefined as Promise<PackageDir | Unavailable> | undefined);
  const start = (i: number): void => {
    const node = tree.nodes[i];
    if (!node || ready[i]) return;
    const extracting = limit(async (): Promise<PackageDir | Unavailable> => {
      signal.throwIfAborted();
      const got = await verifiedTarball(node, signal, options);
      if (!(got instanceof Uint8Array)) return got;
      const dir = await writePackageDir(got).catch((error: unknown) => errorMessage(error));
      if (typeof dir === 'string') return { reason: `the tarball could not be extracted: ${dir}` };
      dirs.push(dir);
      return dir;
    });
    extracting.catch(() => undefined);
    ready[i] = extracting;
  };
  const window = options.concurrency ?? DEPENDENCY_FETCH_CONCURRENCY;
  const taken = new Set<PackageDir>();
  try {
    for (const [i, node] of tree.nodes.entries()) {
      for (let j = i; j < i + window; j++) start(j);
      const id = `${node.packageName}@${node.version}`;
      const got = await ready[i]?.catch((error: unknown): Unavailable => {
        signal.throwIfAborted();
        return { reason: errorMessage(error) };
      });
      if (!got) continue;
      if (!('dir' in got)) {
        // A tarball that is not the published one is worth telling even for an optional dependency.
        (node.optional && !got.tampered ? skipped : issues).push(`${id}: ${got.reason}`);
        continue;
      }
      if (bytes + got.bytes > maxBytes) {
        issues.push(
          `dependencies incomplete: more than ${Math.round(maxBytes / 2 ** 20)} MB unpacked at ${id}; the rest of the tree is left out`,
        );
        break;
      }
      taken.add(got);
      bytes += got.bytes;
      files += got.files.size;
      dependencies.push({ name: node.name, version: node.version, dir: got.dir, path: node.path });
    }
    signal.throwIfAborted();
  } catch (error) {
    await Promise.allSettled(ready);
    await cleanup();
    throw error;
  }
  // Extracted ahead but beyond the limit: removed now.
  await Promise.allSettled(ready);
  const extra = dirs.filter((d) => !taken.has(d));
  await Promise.all(extra.map((d) => d.cleanup()));
  dirs.splice(0, dirs.length, ...dirs.filter((d) => taken.has(d)));
  return { dependencies, issues, skipped, bytes, files, cleanup };
}

/** Why a dependency's tarball is not there; `tampered` when its bytes are not upstream's. */
interface Unavailable {
  reason: string;
  tampered?: boolean;
}

/**
 * The tarball of a tree node, from the artifact store when it holds the bytes of upstream's sha512,
 * else from upstream (then stored); verified against the packument's dist.integrity either way.
 * Returns why not; throws on an abort (and on store errors other than a missing file).
 */
async function verifiedTarball(
  node: TreeNode,
  signal: AbortSignal,
  options: InstallDependenciesOptions,
): Promise<Uint8Array | Unavailable> {
  const expected = upstreamIntegrity(node.manifest.dist);
  if (!expected) return { reason: 'upstream gives no integrity to verify the tarball against; left out' };
  const matches = (bytes: Uint8Array): boolean => {
    const actual = computeIntegrity(bytes);
    return integritiesMatch(expected, `${actual.sha512} ${actual.sha1}`);
  };
  const sha512 = parseIntegrity(expected).find((h) => h.algorithm === 'sha512');
  const hex = sha512 && Buffer.from(sha512.digest, 'base64').toString('hex');
  if (hex?.length === 128) {
    const stored = await options.artifacts.read(artifactKey(hex)).catch((error: unknown) => {
      if (isArtifactMissing(error)) return undefined;
      throw error;
    });
    if (stored && matches(stored)) return stored;
  }
  const url = node.manifest.dist?.tarball;
  if (typeof url !== 'string') return { reason: 'upstream gives no tarball URL' };
  let bytes: Buffer;
  try {
    bytes = await options.registry.getTarball(url, { signal });
  } catch (error) {
    signal.throwIfAborted();
    return { reason: `fetching ${url} failed: ${errorMessage(error)}` };
  }
  if (!matches(bytes)) {
    const actual = computeIntegrity(bytes);
    return {
      reason: `the tarball's integrity does not match upstream dist.integrity (expected ${expected}, got ${actual.sha512}); left out`,
      tampered: true,
    };
  }
  await options.artifacts.put(bytes);
  return bytes;
}

/** The dependencies of one install-phase run, and what the phase summary says about them. */
export interface RunDependencies {
  dependencies: { name: string; dir: string; path: string }[];
  /** The run's tmpfs: the default 256 MB plus room for the dependencies' files. */
  diskMb: number;
  summary: { present: number; bytes: number; durationMs: number; issues: string[]; skipped: string[] };
  cleanup(): Promise<void>;
}

/**
 * What the dynamic stage calls before the install phase: the installer's dependencies, or none and
 * the reason as an issue when it fails (the run goes ahead with what it has). Throws only on an abort.
 */
export async function dependenciesForRun(
  installer: DependencyInstaller,
  pkg: AnalysedPackage,
  signal: AbortSignal,
): Promise<RunDependencies> {
  const started = Date.now();
  let installed: Pick<
    InstalledDependencies,
    'dependencies' | 'issues' | 'skipped' | 'bytes' | 'files' | 'cleanup'
  >;
  try {
    installed = await installer(pkg, signal);
  } catch (error) {
    signal.throwIfAborted();
    const issue = `dependencies unavailable: ${errorMessage(error)}`;
    installed = {
      dependencies: [],
      issues: [issue],
      skipped: [],
      bytes: 0,
      files: 0,
      cleanup: async () => {},
    };
  }
  return {
    dependencies: installed.dependencies.map(({ name, dir, path }) => ({ name, dir, path })),
    diskMb: 256 + Math.ceil((installed.bytes + installed.files * 4096) / 2 ** 20),
    summary: {
      present: installed.dependencies.length,
      bytes: installed.bytes,
      durationMs: Date.now() - started,
      issues: installed.issues.slice(0, 50).map((i) => i.slice(0, 500)),
      skipped: installed.skipped.slice(0, 50).map((i) => i.slice(0, 300)),
    },
    cleanup: installed.cleanup,
  };
}
