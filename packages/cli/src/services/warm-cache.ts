/**
 * The warm re-check in local mode: a re-scan of a project whose lockfile and verdicts have not
 * changed since the last scan is answered without Arborist and without starting the server.
 *
 * Two entries under `<dataDir>/scan-cache/`:
 * - **graph**: the graph read from the lockfile. npm lockfiles: keyed by a hash of every input npm's
 *   reader (Arborist's `loadVirtual`) reads: the lockfile's name and bytes, package.json, yarn.lock
 *   and, with workspaces, the workspace map found on disk (the same `@npmcli/map-workspaces` call).
 *   pnpm and Yarn lockfiles: keyed by the lockfile's name and bytes; the entry lists every other file
 *   (and directory listing) their reader read, by hash, and is used only while all are unchanged.
 * - **result**: the last result for a graph, keyed by a hash of the graph and the code that planned
 *   it, with the events that were printed and, for each artifact in it, the stored verdict row it
 *   came from. It is used only when every one of those rows in the local SQLite database is still
 *   the same (verdict, reason, findings, rule set, decided/updated times): any re-analysis, review
 *   or rejection after the fact rewrites the row (its `updated_at` at least), and the scan then goes
 *   through the server as before. Only results of scans the server answered from stored verdicts
 *   alone are recorded (so the first re-scan after an analysis still goes through the server).
 * - Registry nodes without a lockfile integrity (Yarn Berry: its `checksum` hashes Yarn's zip, not
 *   the registry tarball) are identified by the integrity the server took from upstream's
 *   `dist.integrity`, which the result records. Such a result is keyed by the upstream too (local
 *   mode; a hosted server's URL already is) and is used for UPSTREAM_RESOLVED_MAX_AGE_MS: npm's
 *   registry never gives a published version other bytes, and past that age the scan asks upstream
 *   again through the server. A result with a registry package upstream gave no integrity for (an
 *   outage, a missing version) is not recorded: the next scan asks again.
 *   Anything unreadable counts as a miss.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';
import type { DependencyGraph, ScanEvent, ScanResult } from '@secure-registry/shared';
import type { LoadedLockfile } from './lockfile.js';
import type { ReadInputs } from './lockfile-foreign.js';

/** Bump when the format of an entry, or the meaning of a key, changes. */
const FORMAT = 2;
/** How long a result whose integrities came from upstream (not the lockfile) is used. */
export const UPSTREAM_RESOLVED_MAX_AGE_MS = 24 * 60 * 60 * 1000;
const SQLITE_FILE = 'secure-registry.db';

const sha256 = (parts: readonly (string | Buffer)[]): string => {
  const hash = createHash('sha256');
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part) : part;
    hash.update(`${bytes.length}:`);
    hash.update(bytes);
  }
  return hash.digest('hex');
};

/** Whether the server asks upstream for an integrity: a registry node the lockfile gives none. */
export const integrityFromUpstream = (graph: DependencyGraph): boolean =>
  graph.nodes.some((node) => node.source === 'registry' && node.integrity === undefined);

const readOrAbsent = (path: string): Promise<Buffer | string> => readFile(path).catch(() => '\0absent');

/**
 * Whether this environment's local scan may use the cache: local mode on SQLite (a database URL
 * points the server elsewhere) and not turned off with SECURE_REGISTRY_SCAN_CACHE=off.
 */
export function scanCacheEnabled(
  env: Readonly<Record<string, string | undefined>>,
  mode: 'local' | 'hosted' = 'local',
): boolean {
  if (env.SECURE_REGISTRY_SCAN_CACHE === 'off') return false;
  return mode === 'hosted' || (!env.SR_DATABASE_URL && !env.DATABASE_URL);
}

/** The code whose output is cached: this CLI's and the in-process server's builds. */
async function codeStamp(toolVersion: string): Promise<string> {
  const require = createRequire(import.meta.url);
  const files = [
    new URL(import.meta.url).pathname,
    new URL('./lockfile.js', import.meta.url).pathname,
    new URL('./graph-arborist.js', import.meta.url).pathname,
    new URL('./graph-lockfile.js', import.meta.url).pathname,
    new URL('./lockfile-foreign.js', import.meta.url).pathname,
    new URL('./graph-pnpm.js', import.meta.url).pathname,
    new URL('./graph-yarn.js', import.meta.url).pathname,
  ];
  try {
    files.push(require.resolve('@secure-registry/server'));
  } catch {
    files.push('\0no-server');
  }
  const stamps = await Promise.all(
    files.map(async (file) => {
      const info = await stat(file).catch(() => undefined);
      return info ? `${file}:${info.size}:${info.mtimeMs}` : `${file}:absent`;
    }),
  );
  return sha256([String(FORMAT), toolVersion, process.version, ...stamps]);
}

export interface ScanCache {
  /** The graph of a lockfile read before with exactly these inputs, or undefined. */
  cachedLockfile(projectDir: string): Promise<LoadedLockfile | undefined>;
  /** `inputs`: what the pnpm or Yarn reader read besides the lockfile (without them none is kept). */
  saveLockfile(projectDir: string, lockfile: LoadedLockfile, inputs?: ReadInputs): Promise<void>;
  /**
   * The recorded result for this graph if every verdict it used is unchanged, or undefined.
   * `upstream`: in local mode, the registry the server would ask for the integrities the lockfile
   * lacks (see `integrityFromUpstream`); without it such a graph is a miss.
   */
  cachedResult(graph: DependencyGraph, label: string, upstream?: string): Promise<CachedScan | undefined>;
  /** Records a finished local scan (only if it is complete and matches the stored verdicts). */
  saveResult(graph: DependencyGraph, label: string, scan: CachedScan, upstream?: string): Promise<void>;
}

export interface CachedScan {
  result: ScanResult;
  events: ScanEvent[];
}

interface GraphEntry {
  format: number;
  lockfile: LoadedLockfile;
  /** pnpm and Yarn: each other file (or `dir:` listing) the reader read → its hash then. */
  inputs?: Record<string, string>;
}

interface ResultEntry extends CachedScan {
  format: number;
  /** When it was recorded (ms since the epoch). */
  savedAt: number;
  /** `name@version#integrity` → the stored row's signature when the result was recorded. */
  rows: Record<string, string>;
}

interface ArtifactRow {
  verdict: string;
  reason: string | null;
  findings: string;
  rule_set_version: string | null;
  decided_at: string | null;
  updated_at: string;
}

const rowSignature = (row: ArtifactRow): string =>
  JSON.stringify([
    row.verdict,
    row.reason,
    row.findings,
    row.rule_set_version,
    row.decided_at,
    row.updated_at,
  ]);

/** The artifacts a result's verdicts came from: every registry package with an integrity. */
function artifactKeys(result: ScanResult): ArtifactId[] {
  const keys = new Map<string, ArtifactId>();
  for (const pkg of result.packages) {
    if (pkg.source !== 'registry' || pkg.integrity === undefined) continue;
    const id = `${pkg.name}@${pkg.version}#${pkg.integrity}`;
    keys.set(id, { id, name: pkg.name, version: pkg.version, integrity: pkg.integrity });
  }
  return [...keys.values()];
}

export interface ArtifactId {
  id: string;
  name: string;
  version: string;
  integrity: string;
}

/** A stored verdict as the cache compares it: the verdict, its reason and a signature of its row. */
export interface StoredVerdict {
  verdict: string;
  reason: string | undefined;
  signature: string;
}

/**
 * Where a result's verdicts are checked: `where` names it (part of the result's key), `verdicts`
 * reads the stored verdicts of the artifacts (undefined when it cannot: a miss).
 */
export interface VerdictSource {
  where: string;
  verdicts(keys: readonly ArtifactId[]): Promise<Map<string, StoredVerdict> | undefined>;
}

/** The local mode's verdicts: straight from the local SQLite file (read-only, one snapshot). */
export function localVerdicts(dataDir: string): VerdictSource {
  return {
    where: 'local',
    async verdicts(keys) {
      const rows = await readRows(dataDir, keys);
      if (!rows) return undefined;
      const out = new Map<string, StoredVerdict>();
      for (const [id, row] of rows)
        out.set(id, { verdict: row.verdict, reason: row.reason ?? undefined, signature: rowSignature(row) });
      return out;
    },
  };
}

/**
 * A hosted server's verdicts (`POST /api/v1/verdicts/signatures`, one request, no reports). The
 * server's version is part of each signature: a result kept under another server version is a miss.
 */
export function hostedVerdicts(
  server: string,
  lookup: (
    keys: { name: string; version: string; integrity: string }[],
  ) => Promise<
    | { server: string; verdicts: Record<string, { verdict: string; reason?: string; signature: string }> }
    | undefined
  >,
): VerdictSource {
  return {
    where: `hosted:${server}`,
    async verdicts(keys) {
      const answer = await lookup(
        keys.map(({ name, version, integrity }) => ({ name, version, integrity })),
      ).catch(() => undefined);
      if (!answer) return undefined;
      const out = new Map<string, StoredVerdict>();
      for (const [id, row] of Object.entries(answer.verdicts))
        out.set(id, {
          verdict: row.verdict,
          reason: row.reason,
          signature: `${answer.server}:${row.signature}`,
        });
      return out;
    },
  };
}

/** Reads the artifacts' rows straight from the local SQLite file (read-only); undefined if it cannot. */
async function readRows(
  dataDir: string,
  keys: readonly ArtifactId[],
): Promise<Map<string, ArtifactRow> | undefined> {
  const file = join(dataDir, SQLITE_FILE);
  if (!(await stat(file).catch(() => undefined))?.isFile()) return undefined;
  let db: DatabaseSync | undefined;
  try {
    const sqlite = await import('node:sqlite');
    db = new sqlite.DatabaseSync(file, { readOnly: true });
    db.exec('BEGIN'); // one snapshot for every row
    const query = db.prepare(
      'SELECT verdict, reason, findings, rule_set_version, decided_at, updated_at FROM artifacts WHERE name = ? AND version = ? AND integrity = ?',
    );
    const rows = new Map<string, ArtifactRow>();
    for (const key of keys) {
      const row = query.get(key.name, key.version, key.integrity) as ArtifactRow | undefined;
      if (row) rows.set(key.id, row);
    }
    db.exec('COMMIT');
    return rows;
  } catch {
    return undefined;
  } finally {
    try {
      db?.close();
    } catch {
      // already closed
    }
  }
}

const inputHash = (text: string | undefined): string => (text === undefined ? 'absent' : sha256([text]));

/** The hash of what a pnpm or Yarn reader input holds now (`dir:` inputs are directory listings). */
async function currentInput(input: string): Promise<string> {
  if (input.startsWith('dir:')) {
    const names = await readdir(input.slice(4)).catch(() => [] as string[]);
    return inputHash(JSON.stringify(names.sort()));
  }
  return inputHash(await readFile(input, 'utf8').catch(() => undefined));
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

async function writeAtomically(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, JSON.stringify(value));
  await rename(tmp, path);
}

/**
 * The cache under `<dataDir>/scan-cache/`; results are checked against `source` (default: the local
 * mode's SQLite file in `dataDir`; a hosted server's verdicts with `hostedVerdicts`).
 */
export async function openScanCache(
  dataDir: string,
  toolVersion: string,
  source: VerdictSource = localVerdicts(dataDir),
  now: () => number = Date.now,
): Promise<ScanCache> {
  const dir = join(dataDir, 'scan-cache');
  const stamp = await codeStamp(toolVersion);

  /**
   * The key of a project's lockfile inputs (pnpm and Yarn: the lockfile alone, the entry lists the
   * rest), or undefined without a lockfile.
   */
  const lockfileKey = async (projectDir: string): Promise<string | undefined> => {
    const { findProjectLockfile } = await import('./lockfile-find.js');
    const found = await findProjectLockfile(projectDir);
    if (!found) return undefined;
    if (found.kind !== 'npm') {
      return sha256(['lockfile', found.kind, stamp, projectDir, found.path, await readFile(found.path)]);
    }
    const [lock, manifest, yarnLock] = await Promise.all([
      readFile(found.path),
      readOrAbsent(join(projectDir, 'package.json')),
      readOrAbsent(join(projectDir, 'yarn.lock')),
    ]);
    let workspaces = '';
    if (typeof manifest !== 'string') {
      let pkg: unknown;
      try {
        pkg = JSON.parse(manifest.toString('utf8'));
      } catch {
        return undefined; // the reader reports it
      }
      if (typeof pkg === 'object' && pkg !== null && 'workspaces' in pkg) {
        const { default: mapWorkspaces } = await import('@npmcli/map-workspaces');
        const map = await mapWorkspaces({ cwd: projectDir, pkg: pkg as Record<string, unknown> });
        workspaces = JSON.stringify([...map.entries()]);
      }
    }
    return sha256(['lockfile', stamp, projectDir, found.path, lock, manifest, yarnLock, workspaces]);
  };

  /**
   * The key of a graph's result, or undefined when there is none: integrities to be taken from
   * upstream need the upstream in local mode (a hosted server's is its own, `source.where`).
   */
  const resultKey = (graph: DependencyGraph, label: string, upstream: string | undefined) => {
    if (!integrityFromUpstream(graph))
      return sha256(['result', stamp, source.where, label, JSON.stringify(graph)]);
    if (source.where === 'local' && upstream === undefined) return undefined;
    return sha256(['result', stamp, source.where, upstream ?? '', label, JSON.stringify(graph)]);
  };

  return {
    async cachedLockfile(projectDir) {
      const key = await lockfileKey(projectDir).catch(() => undefined);
      if (!key) return undefined;
      const entry = await readJson<GraphEntry>(join(dir, `graph-${key}.json`));
      if (entry?.format !== FORMAT) return undefined;
      for (const [input, hash] of Object.entries(entry.inputs ?? {})) {
        if ((await currentInput(input)) !== hash) return undefined;
      }
      return entry.lockfile;
    },
    async saveLockfile(projectDir, lockfile, inputs) {
      if (lockfile.resolved !== undefined) return;
      if (lockfile.kind !== 'npm' && !inputs) return;
      const key = await lockfileKey(projectDir).catch(() => undefined);
      if (!key) return;
      const entry: GraphEntry = { format: FORMAT, lockfile };
      if (lockfile.kind !== 'npm' && inputs) {
        entry.inputs = Object.fromEntries([...inputs].map(([input, text]) => [input, inputHash(text)]));
      }
      await mkdir(dir, { recursive: true });
      await writeAtomically(join(dir, `graph-${key}.json`), entry);
    },
    async cachedResult(graph, label, upstream) {
      const key = resultKey(graph, label, upstream);
      if (key === undefined) return undefined;
      const entry = await readJson<ResultEntry>(join(dir, `result-${key}.json`));
      if (entry?.format !== FORMAT) return undefined;
      if (integrityFromUpstream(graph) && !(now() - entry.savedAt <= UPSTREAM_RESOLVED_MAX_AGE_MS)) {
        return undefined;
      }
      const keys = artifactKeys(entry.result);
      if (keys.length !== Object.keys(entry.rows).length) return undefined;
      const rows = await source.verdicts(keys);
      if (!rows || rows.size !== keys.length) return undefined;
      for (const key of keys) {
        const row = rows.get(key.id);
        if (!row || entry.rows[key.id] !== row.signature) return undefined;
      }
      return { result: entry.result, events: entry.events };
    },
    async saveResult(graph, label, scan, upstream) {
      const { result } = scan;
      const key = resultKey(graph, label, upstream);
      if (result.status !== 'completed' || key === undefined) return;
      // Only results every package of which was settled from what is stored: a registry package
      // without an integrity (upstream gave none: the next scan asks again), or analysed in this
      // scan by a run that is not yet a stored decision, is not recorded.
      if (result.packages.some((pkg) => pkg.source === 'registry' && pkg.integrity === undefined)) return;
      if (result.packages.some((pkg) => pkg.state === 'pending' || pkg.state === 'analyzing')) return;
      // Only a scan the server answered from what it had stored (no package changed state while it
      // ran): its events are what such a scan prints again. A scan that analysed something is not.
      if (!scan.events.every((event) => event.type === 'scan.snapshot' || event.type === 'scan.completed')) {
        return;
      }
      const keys = artifactKeys(result);
      const rows = await source.verdicts(keys);
      if (!rows || rows.size !== keys.length) return;
      const byId = new Map(
        result.packages.map((pkg) => [`${pkg.name}@${pkg.version}#${pkg.integrity}`, pkg]),
      );
      const signatures: Record<string, string> = {};
      for (const key of keys) {
        const row = rows.get(key.id)!;
        const pkg = byId.get(key.id)!;
        // The stored row must be the one the result shows (a verdict written after the scan
        // read it would otherwise be paired with the older result).
        if (pkg.state !== 'blocked' && (row.verdict !== pkg.state || row.reason !== pkg.reason)) {
          return;
        }
        signatures[key.id] = row.signature;
      }
      await mkdir(dir, { recursive: true });
      const entry: ResultEntry = {
        format: FORMAT,
        savedAt: now(),
        result,
        events: scan.events,
        rows: signatures,
      };
      await writeAtomically(join(dir, `result-${key}.json`), entry);
    },
  };
}
