// Importing OSV advisories of malicious npm packages: read records from files, directories
// (e.g. a clone of ossf/malicious-packages), zip archives (OSV's npm/all.zip) or URLs; keep the
// `MAL-` ones; store them; and reject what they name — the artifacts already stored, and (with an
// upstream) the versions upstream still serves, so that an install finds the verdict waiting.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import {
  ARTIFACT_REPORTS_SCHEMA_VERSION,
  formatPackageVersion,
  readArtifactReports,
  RemoteError,
  UserError,
  type ArtifactReports,
} from '@secure-registry/shared';
import type { ArtifactKey, Store } from '../storage/store.js';
import type { RegistryClient } from '../upstream/registry-client.js';
import { UpstreamHttpError } from '../upstream/registry-client.js';
import { upstreamIntegrity } from '../pipeline/integrity.js';
import { createAnalysisQueue } from '../scheduler/analysis-queue.js';
import { decide } from '../verdict/index.js';
import { advisoriesFor, isMalwareRecord, OsvRecord, packageAdvisories, type PackageAdvisory } from './osv.js';

/** Largest advisory source read (OSV's npm all.zip is well below this). */
const MAX_SOURCE_BYTES = 1024 * 1024 * 1024;

export interface AdvisorySourceRead {
  records: { record: OsvRecord; source: string }[];
  /** Entries that are not OSV records (named, with why). */
  invalid: string[];
}

function isZip(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04
  );
}

/** One JSON document: a record, an array of records, or OSV's API answer (`{ vulns: [...] }`). */
function recordsOfJson(text: string, where: string, out: AdvisorySourceRead): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    out.invalid.push(`${where}: not JSON (${error instanceof Error ? error.message : String(error)})`);
    return;
  }
  const list = Array.isArray(parsed)
    ? parsed
    : typeof parsed === 'object' && parsed !== null && Array.isArray((parsed as { vulns?: unknown }).vulns)
      ? (parsed as { vulns: unknown[] }).vulns
      : [parsed];
  list.forEach((item, index) => {
    const record = OsvRecord.safeParse(item);
    const at = list.length > 1 ? `${where}[${index}]` : where;
    if (record.success) out.records.push({ record: record.data, source: where });
    else out.invalid.push(`${at}: not an OSV record (${record.error.issues[0]?.message ?? 'invalid'})`);
  });
}

function recordsOfBytes(bytes: Uint8Array, where: string, out: AdvisorySourceRead): void {
  if (!isZip(bytes)) {
    recordsOfJson(Buffer.from(bytes).toString('utf8'), where, out);
    return;
  }
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, { filter: (file) => file.name.endsWith('.json') });
  } catch (error) {
    throw new UserError(
      'ERR_SR_ADVISORY_SOURCE',
      `${where} is not a readable zip archive: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  for (const [name, content] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b)))
    recordsOfJson(Buffer.from(content).toString('utf8'), `${where}:${name}`, out);
}

async function readUrl(url: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(300_000) });
  } catch (error) {
    throw new RemoteError(
      'ERR_SR_ADVISORY_FETCH',
      `could not fetch ${url}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (response.status !== 200 || !response.body) {
    await response.body?.cancel();
    throw new RemoteError('ERR_SR_ADVISORY_FETCH', `${url} answered ${response.status}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.length;
    if (size > MAX_SOURCE_BYTES) {
      await response.body.cancel();
      throw new RemoteError('ERR_SR_ADVISORY_FETCH', `${url} is larger than ${MAX_SOURCE_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function readPath(path: string, out: AdvisorySourceRead): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new UserError('ERR_SR_ADVISORY_SOURCE', `no such file or directory: ${path}`);
  }
  if (info.isDirectory()) {
    const entries = await readdir(path, { recursive: true, withFileTypes: true });
    const files = entries
      .filter((entry) => entry.isFile() && (entry.name.endsWith('.json') || entry.name.endsWith('.zip')))
      .map((entry) => join(entry.parentPath, entry.name))
      .sort();
    for (const file of files) recordsOfBytes(await readFile(file), file, out);
    return;
  }
  if (info.size > MAX_SOURCE_BYTES)
    throw new UserError('ERR_SR_ADVISORY_SOURCE', `${path} is larger than ${MAX_SOURCE_BYTES} bytes`);
  recordsOfBytes(await readFile(path), path, out);
}

/** Reads every source (path or http(s) URL) into OSV records. */
export async function readAdvisorySources(sources: readonly string[]): Promise<AdvisorySourceRead> {
  const out: AdvisorySourceRead = { records: [], invalid: [] };
  for (const source of sources) {
    if (/^https?:\/\//i.test(source)) recordsOfBytes(await readUrl(source), source, out);
    else await readPath(source, out);
  }
  return out;
}

export interface AdvisoryImportSummary {
  /** OSV records read. */
  records: number;
  /** `MAL-` records with an npm package, stored. */
  imported: number;
  /** Records that are not about malware (vulnerabilities) or name no npm package: left out. */
  skipped: number;
  /** Withdrawn records: their stored advisories removed. */
  withdrawn: number;
  invalid: string[];
  /** Package names the imported advisories name. */
  names: number;
  /** Versions now rejected: stored artifacts and (with an upstream) versions upstream serves. */
  rejected: string[];
  /** Versions rejected only on advisories since withdrawn: queued for analysis (held until then). */
  released: string[];
  /** Names upstream could not be asked about (the stored advisory still applies to later analyses). */
  upstreamErrors: string[];
}

/**
 * Stores the advisories and rejects what they name. Without a registry only stored artifacts are
 * re-decided; with one, every version upstream serves that an advisory covers is stored as rejected
 * (by upstream's integrity), so it is refused before anyone asks for it.
 */
export async function importAdvisories(
  store: Store,
  read: AdvisorySourceRead,
  options: { registry?: RegistryClient | undefined; signal?: AbortSignal } = {},
): Promise<AdvisoryImportSummary> {
  const summary: AdvisoryImportSummary = {
    records: read.records.length,
    imported: 0,
    skipped: 0,
    withdrawn: 0,
    invalid: read.invalid,
    names: 0,
    rejected: [],
    released: [],
    upstreamErrors: [],
  };
  const advisories: PackageAdvisory[] = [];
  const withdrawn: string[] = [];
  for (const { record, source } of read.records) {
    const named = isMalwareRecord(record) ? packageAdvisories(record, source) : [];
    if (named.length === 0) summary.skipped++;
    else if (record.withdrawn !== undefined) withdrawn.push(record.id);
    else {
      summary.imported++;
      advisories.push(...named);
    }
  }
  summary.withdrawn = withdrawn.length;
  const withdrawnNames = await store.deleteAdvisories(withdrawn);
  await store.putAdvisories(advisories);
  const imported = new Set(advisories.map((advisory) => advisory.name));
  summary.names = imported.size;
  const queue = createAnalysisQueue({ store });
  for (const name of [...new Set([...imported, ...withdrawnNames])].sort()) {
    options.signal?.throwIfAborted();
    const stored = await store.listAdvisories(name);
    const known = new Set<string>();
    for (const artifact of await store.listArtifactsByName(name)) {
      known.add(artifact.version);
      const key = { name, version: artifact.version, integrity: artifact.integrity };
      const covering = advisoriesFor(stored, artifact.version);
      const before = readArtifactReports(artifact.reports);
      if (covering.length > 0) {
        await storeDecision(store, key, { ...before, advisories: covering }, { advisories: covering });
        summary.rejected.push(formatPackageVersion(name, artifact.version));
      } else if (before.advisories?.length) {
        // Rejected only on advisories since withdrawn: not a decision any more, so analysed
        // (held meanwhile, as any artifact that could not be analysed yet).
        const ids = before.advisories.map((advisory) => advisory.id).join(', ');
        const reports: ArtifactReports = {
          schemaVersion: ARTIFACT_REPORTS_SCHEMA_VERSION,
          failure: {
            kind: 'error',
            message: `the advisory ${ids} no longer names this version; to be analysed`,
          },
        };
        await storeDecision(store, key, reports);
        await queue.queueAnalysis([key]);
        summary.released.push(formatPackageVersion(name, artifact.version));
      }
    }
    if (options.registry && imported.has(name))
      await rejectUpstreamVersions(store, options.registry, name, stored, known, summary);
  }
  return summary;
}

/**
 * `decide()` on the reports and the verdict stored; `stored` is the reports patch written (all of
 * `reports` by default; a piece of them merges into what the artifact already holds).
 */
async function storeDecision(
  store: Store,
  key: ArtifactKey,
  reports: ArtifactReports,
  stored: Partial<ArtifactReports> = reports,
): Promise<void> {
  const { verdict, reason, findings, ruleSetVersion } = decide({ reports });
  await store.upsertArtifact(key, { verdict, reason, findings, ruleSetVersion, reports: stored });
}

async function rejectUpstreamVersions(
  store: Store,
  registry: RegistryClient,
  name: string,
  stored: readonly PackageAdvisory[],
  known: ReadonlySet<string>,
  summary: AdvisoryImportSummary,
): Promise<void> {
  let packument;
  try {
    packument = await registry.getPackument(name, { fresh: true });
  } catch (error) {
    // Gone upstream (the usual fate of malware): nothing to store; the advisory still applies.
    if (error instanceof UpstreamHttpError && error.status === 404) return;
    summary.upstreamErrors.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  for (const [version, manifest] of Object.entries(packument.versions ?? {})) {
    if (known.has(version)) continue;
    const covering = advisoriesFor(stored, version);
    const integrity = upstreamIntegrity(manifest?.dist);
    if (covering.length === 0 || integrity === undefined) continue;
    await storeDecision(
      store,
      { name, version, integrity },
      { schemaVersion: ARTIFACT_REPORTS_SCHEMA_VERSION, advisories: covering },
    );
    summary.rejected.push(formatPackageVersion(name, version));
  }
}
