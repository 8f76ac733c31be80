/**
 * The investigation tools, shared by the MCP server (and any HTTP route): scan summaries,
 * findings, behaviour reports, raw event queries, files and diffs from stored tarballs, and
 * `check_package` for assistants that ask before adding a dependency.
 */
import * as semver from 'semver';
import {
  formatPackageVersion,
  integritiesMatch,
  isValidPackageName,
  RemoteError,
  UserError,
} from '@secure-registry/shared';
import type { Finding, Phase, ReviewRecord, ScanPackage, Verdict } from '@secure-registry/shared';
import { computeIntegrity, upstreamIntegrity } from '../pipeline/integrity.js';
import type { ArtifactRecord, Store } from '../storage/store.js';
import { UpstreamHttpError } from '../upstream/registry-client.js';
import type { Packument, RegistryClient } from '../upstream/registry-client.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { dynamicPhases, queryEvents } from './investigation-events.js';
import type { EventFilter, PhaseEvent } from './investigation-events.js';
import { diffPackages } from './package-diff.js';
import type { PackageDiff } from './package-diff.js';
import { checkDependencies } from './dependency-check.js';
import type { BlockingDependency } from './dependency-check.js';
import { readPackageFile } from './package-files.js';
import type { PackageFile } from './package-files.js';
import type { ScanService } from './scan-service.js';
import type { AnalysisQueue } from '../scheduler/analysis-queue.js';

export interface InvestigationDeps {
  store: Store;
  scans: Pick<ScanService, 'getScanResult'>;
  registry: Pick<RegistryClient, 'getPackument' | 'getTarball'>;
  artifacts: Pick<ArtifactStore, 'read'>;
  /** Queues analyses (`check_package` of an unknown version): ../scheduler/analysis-queue.ts. */
  queue: AnalysisQueue;
}

export const MAX_EVENTS = 500;
const MAX_LISTED_PACKAGES = 50;

export interface PackageCheck {
  name: string;
  version: string;
  integrity: string | undefined;
  /** `pending` with `queued: true` when an analysis was just queued (or already running). */
  verdict: Verdict;
  queued: boolean;
  reason: string | undefined;
  findings: Pick<Finding, 'rule' | 'severity' | 'message'>[];
  /** For an approved version: the refused dependency that makes installing it fail, with the path. */
  blockedBy?: BlockingDependency | undefined;
  /** For an approved version: dependencies not vetted yet (their analyses are queued). */
  unvettedDependencies?: string[] | undefined;
  message: string;
}

/** How many unvetted dependencies one check queues and names. */
const MAX_QUEUED_DEPENDENCIES = 200;

function summarizeFinding(finding: Finding): Pick<Finding, 'rule' | 'severity' | 'message'> {
  return { rule: finding.rule, severity: finding.severity, message: finding.message };
}

export class InvestigationService {
  constructor(private readonly deps: InvestigationDeps) {}

  /** A scan's status, counts and every package that is not approved, with its top findings. */
  async getScanSummary(scanId: string) {
    const result = await this.deps.scans.getScanResult(scanId);
    if (!result) throw new UserError('ERR_SR_SCAN_NOT_FOUND', `no scan with id ${scanId}`);
    const attention = result.packages.filter((pkg) => pkg.state !== 'approved');
    const describe = (pkg: ScanPackage) => ({
      name: pkg.name,
      version: pkg.version,
      state: pkg.state,
      ...(pkg.reason !== undefined ? { reason: pkg.reason } : {}),
      ...(pkg.blockedBy !== undefined ? { blockedBy: pkg.blockedBy } : {}),
      findings: pkg.findings.slice(0, 5).map(summarizeFinding),
    });
    return {
      id: result.id,
      ...(result.label !== undefined ? { label: result.label } : {}),
      status: result.status,
      createdAt: result.createdAt,
      ...(result.completedAt !== undefined ? { completedAt: result.completedAt } : {}),
      counts: result.counts,
      notApproved: attention.slice(0, MAX_LISTED_PACKAGES).map(describe),
      ...(attention.length > MAX_LISTED_PACKAGES
        ? { notApprovedOmitted: attention.length - MAX_LISTED_PACKAGES }
        : {}),
    };
  }

  /** Verdict, findings with evidence, and the decision log of a package version. */
  async getPackageFindings(name: string, version: string) {
    const artifact = await this.requireArtifact(name, version);
    const decisions: ReviewRecord[] = await this.deps.store.listReviewDecisions({
      name,
      version,
      integrity: artifact.integrity,
    });
    return {
      name,
      version,
      integrity: artifact.integrity,
      verdict: artifact.verdict,
      ...(artifact.reason !== undefined ? { reason: artifact.reason } : {}),
      ...(artifact.ruleSetVersion !== undefined ? { ruleSetVersion: artifact.ruleSetVersion } : {}),
      findings: artifact.findings,
      decisions,
    };
  }

  /** The behaviour reports of the dynamic phases (all, or one). */
  async getBehaviourReport(name: string, version: string, phase?: Phase) {
    const artifact = await this.requireArtifact(name, version);
    const phases = dynamicPhases(artifact.reports).filter((data) => !phase || data.phase === phase);
    const reports = phases.filter((data) => data.report).map((data) => data.report!);
    return {
      name,
      version,
      reports,
      ...(reports.length === 0 ? { note: this.noDynamicNote(artifact, phase) } : {}),
    };
  }

  /** Raw events of the dynamic phases matching a filter. */
  async queryEvents(
    name: string,
    version: string,
    filter: Omit<EventFilter, 'limit'> & { limit?: number | undefined },
  ): Promise<{ events: PhaseEvent[]; total: number; truncated: boolean; note?: string }> {
    const artifact = await this.requireArtifact(name, version);
    const phases = dynamicPhases(artifact.reports).filter((data) => data.events.length > 0);
    const limit = Math.min(Math.max(1, filter.limit ?? 100), MAX_EVENTS);
    if (phases.length === 0) {
      return {
        events: [],
        total: 0,
        truncated: false,
        note: this.noDynamicNote(artifact, filter.phase, 'events'),
      };
    }
    const { events, total } = queryEvents(phases, { ...filter, limit });
    const omitted = phases.reduce((sum, data) => sum + data.omitted, 0);
    return {
      events,
      total,
      truncated: total > events.length,
      ...(omitted > 0
        ? { note: `${omitted} events were not stored (the analysis keeps a bounded number per phase)` }
        : {}),
    };
  }

  /** One text file from the stored tarball, at most 64 KiB. */
  async readPackageFile(
    name: string,
    version: string,
    path: string,
  ): Promise<PackageFile & { integrity: string }> {
    const artifact = await this.requireArtifact(name, version);
    const tarball = await this.readStoredTarball(artifact);
    return { ...(await readPackageFile(tarball, path)), integrity: artifact.integrity };
  }

  /** Files added, removed and changed since the previous version, with bounded unified diffs. */
  async diffAgainstPrevious(name: string, version: string): Promise<PackageDiff> {
    const artifact = await this.requireArtifact(name, version);
    const current = await this.readStoredTarball(artifact);
    const previous = await this.previousTarball(artifact);
    if (!previous) {
      return {
        name,
        version,
        previousVersion: undefined,
        added: [],
        removed: [],
        changed: [],
        unchangedCount: 0,
        diffs: [],
        truncated: false,
        note: `no earlier version of ${name} is stored or published upstream`,
      };
    }
    return diffPackages(
      { name, version, previousVersion: previous.version, source: previous.source },
      previous.bytes,
      current,
    );
  }

  /**
   * The verdict of a package version from the verdict store (version defaults to upstream's
   * `latest`); when it was never analysed, queues an analysis and says so.
   */
  async checkPackage(name: string, version?: string): Promise<PackageCheck> {
    if (!isValidPackageName(name))
      throw new UserError('ERR_SR_INVALID_NAME', `invalid package name: ${name}`);
    if (version !== undefined) {
      const stored = this.pickArtifact(await this.deps.store.listArtifactsByName(name), version);
      if (stored && stored.verdict !== 'pending' && stored.verdict !== 'approved')
        return this.answer(stored, false);
      if (stored?.verdict === 'approved') {
        // Its dependencies are resolved from upstream; when it cannot be reached, say what is known.
        const manifest = await this.upstreamPackument(name).then(
          (packument) => packument.versions?.[version],
          () => undefined,
        );
        if (!manifest) return this.unchecked(this.answer(stored, false));
        return this.withDependencies(this.answer(stored, false), manifest);
      }
    }
    const packument = await this.upstreamPackument(name);
    const target = version ?? latestOf(packument);
    if (!target) throw new UserError('ERR_SR_PACKAGE_NOT_FOUND', `${name} has no latest version upstream`);
    const manifest = packument.versions?.[target];
    if (!manifest) {
      throw new UserError(
        'ERR_SR_PACKAGE_NOT_FOUND',
        `${formatPackageVersion(name, target)} does not exist upstream`,
      );
    }
    const integrity = upstreamIntegrity(manifest.dist);
    if (!integrity) {
      throw new UserError(
        'ERR_SR_NO_INTEGRITY',
        `upstream gives no integrity for ${formatPackageVersion(name, target)}`,
      );
    }
    const key = { name, version: target, integrity };
    const known = await this.deps.store.getArtifact(key);
    if (known?.verdict === 'approved') return this.withDependencies(this.answer(known, false), manifest);
    if (known && known.verdict !== 'pending') return this.answer(known, false);
    const resolved = typeof manifest.dist?.tarball === 'string' ? manifest.dist.tarball : undefined;
    await this.deps.queue.queueAnalysis([{ ...key, resolved }]);
    return {
      name,
      version: target,
      integrity,
      verdict: 'pending',
      queued: true,
      reason: undefined,
      findings: [],
      message: `${formatPackageVersion(name, target)} has not been vetted yet; an analysis is queued. Ask again in a minute, and do not install it before it is approved.`,
    };
  }

  /**
   * An approved version's answer, checked against its dependency tree: a refused dependency blocks
   * it (installing it fails at the registry), unvetted ones are queued and named.
   */
  private async withDependencies(
    answer: PackageCheck,
    manifest: Record<string, unknown>,
  ): Promise<PackageCheck> {
    const label = formatPackageVersion(answer.name, answer.version);
    let check;
    try {
      check = await checkDependencies({
        name: answer.name,
        version: answer.version,
        manifest,
        store: this.deps.store,
        getPackument: (name) => this.deps.registry.getPackument(name),
      });
    } catch (error) {
      // An unreachable upstream leaves the tree unknown; anything else is a bug.
      if (!(error instanceof RemoteError)) throw error;
      return this.unchecked(answer);
    }
    if (check.blockedBy) {
      const dep = check.blockedBy;
      const held = dep.verdict === 'review' ? 'held for review' : 'rejected';
      return {
        ...answer,
        blockedBy: dep,
        message: `${label} is approved itself but blocked by ${formatPackageVersion(dep.name, dep.version)}: ${held}${dep.reason ? `: ${dep.reason}` : ''} (path: ${dep.path.join(' > ')}). Do not install it: the vetted registry refuses that dependency.`,
      };
    }
    const queued = check.unvetted.slice(0, MAX_QUEUED_DEPENDENCIES);
    await this.deps.queue.queueAnalysis(
      queued.flatMap((dep) =>
        dep.integrity
          ? [{ name: dep.name, version: dep.version, integrity: dep.integrity, resolved: dep.resolved }]
          : [],
      ),
    );
    const names = queued.map((dep) => formatPackageVersion(dep.name, dep.version));
    if (names.length > 0 || check.issues.length > 0) {
      const parts = [];
      if (names.length > 0) {
        parts.push(
          `${check.unvetted.length} of its dependencies are not vetted yet (analyses queued: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}); ask again in a minute before installing it`,
        );
      }
      if (check.issues.length > 0)
        parts.push(`its dependencies cannot all be resolved: ${check.issues.slice(0, 3).join('; ')}`);
      return {
        ...answer,
        queued: names.length > 0,
        unvettedDependencies: names,
        message: `${label} is approved itself, but ${parts.join('; and ')}.`,
      };
    }
    const count = check.dependencies;
    return {
      ...answer,
      message:
        count === 0
          ? answer.message
          : `${label} is approved, and so are the ${count} dependencies npm would install with it: it may be installed.`,
    };
  }

  /** An approved answer whose dependency tree could not be resolved (upstream unreachable). */
  private unchecked(answer: PackageCheck): PackageCheck {
    return {
      ...answer,
      message: `${answer.message} Its dependencies were not checked: the upstream registry could not be reached.`,
    };
  }

  private answer(artifact: ArtifactRecord, queued: boolean): PackageCheck {
    const label = formatPackageVersion(artifact.name, artifact.version);
    const advice: Record<Verdict, string> = {
      approved: `${label} is approved: it may be installed.`,
      rejected: `${label} is rejected: do not install it.`,
      review: `${label} is held for review by a person: do not install it yet.`,
      pending: `${label} is being analysed.`,
    };
    return {
      name: artifact.name,
      version: artifact.version,
      integrity: artifact.integrity,
      verdict: artifact.verdict,
      queued,
      reason: artifact.reason,
      findings: artifact.findings.slice(0, 10).map(summarizeFinding),
      message: advice[artifact.verdict] + (artifact.reason ? ` Reason: ${artifact.reason}` : ''),
    };
  }

  private noDynamicNote(
    artifact: ArtifactRecord,
    phase: Phase | undefined,
    what = 'behaviour reports',
  ): string {
    // The analysis stages stored (not the schema version, the verdict's stamp or an investigation).
    const stages = Object.keys(artifact.reports).filter(
      (key) => !['schemaVersion', 'decision', 'llm'].includes(key),
    );
    const only =
      stages.length > 0 ? `only ${stages.join(', ')} analysis is stored` : 'no analysis report is stored';
    return `no dynamic ${what}${phase ? ` for the ${phase} phase` : ''}: ${only} for this artifact`;
  }

  private pickArtifact(candidates: ArtifactRecord[], version: string): ArtifactRecord | undefined {
    return candidates
      .filter((artifact) => artifact.version === version)
      .sort((a, b) => ((a.decidedAt ?? '') < (b.decidedAt ?? '') ? 1 : -1))[0];
  }

  private async requireArtifact(name: string, version: string): Promise<ArtifactRecord> {
    if (!isValidPackageName(name))
      throw new UserError('ERR_SR_INVALID_NAME', `invalid package name: ${name}`);
    const artifact = this.pickArtifact(await this.deps.store.listArtifactsByName(name), version);
    if (!artifact) {
      throw new UserError(
        'ERR_SR_PACKAGE_NOT_FOUND',
        `no analysed artifact of ${formatPackageVersion(name, version)}`,
        {
          hint: 'check_package queues an analysis of a version that was never vetted',
        },
      );
    }
    return artifact;
  }

  private async readStoredTarball(artifact: ArtifactRecord): Promise<Buffer> {
    if (!artifact.storagePath) {
      throw new UserError(
        'ERR_SR_NOT_STORED',
        `the tarball of ${formatPackageVersion(artifact.name, artifact.version)} is not stored (not fetched yet, or its integrity did not match)`,
      );
    }
    return this.deps.artifacts.read(artifact.storagePath);
  }

  private async upstreamPackument(name: string): Promise<Packument> {
    try {
      return await this.deps.registry.getPackument(name);
    } catch (error) {
      if (error instanceof UpstreamHttpError && error.status === 404) {
        throw new UserError('ERR_SR_PACKAGE_NOT_FOUND', `${name} does not exist upstream`);
      }
      throw error;
    }
  }

  /** The highest version below this one: a stored tarball first, else upstream's (integrity-checked). */
  private async previousTarball(
    artifact: ArtifactRecord,
  ): Promise<{ version: string; bytes: Buffer; source: 'stored' | 'upstream' } | undefined> {
    const stored = (await this.deps.store.listArtifactsByName(artifact.name)).filter(
      (other) =>
        other.storagePath && semver.valid(other.version) && semver.lt(other.version, artifact.version),
    );
    let upstreamVersions: string[] = [];
    let packument: Packument | undefined;
    try {
      packument = await this.deps.registry.getPackument(artifact.name);
      upstreamVersions = Object.keys(packument.versions ?? {}).filter(
        (v) => semver.valid(v) && semver.lt(v, artifact.version) && !semver.prerelease(v),
      );
    } catch {
      // Upstream unreachable: compare with what is stored.
    }
    const best = semver.rsort([...new Set([...stored.map((a) => a.version), ...upstreamVersions])])[0];
    if (!best) return undefined;
    const local = stored.find((a) => a.version === best);
    if (local?.storagePath) {
      return { version: best, bytes: await this.deps.artifacts.read(local.storagePath), source: 'stored' };
    }
    const dist = packument?.versions?.[best]?.dist;
    if (typeof dist?.tarball !== 'string') return undefined;
    const bytes = await this.deps.registry.getTarball(dist.tarball);
    const expected = upstreamIntegrity(dist);
    const actual = computeIntegrity(bytes);
    if (!expected || !integritiesMatch(expected, `${actual.sha512} ${actual.sha1}`)) {
      throw new RemoteError(
        'ERR_SR_INTEGRITY',
        `the upstream tarball of ${formatPackageVersion(artifact.name, best)} fails its integrity check`,
      );
    }
    return { version: best, bytes, source: 'upstream' };
  }
}

function latestOf(packument: Packument): string | undefined {
  const tags = packument['dist-tags'];
  if (typeof tags === 'object' && tags !== null) {
    const latest = (tags as Record<string, unknown>).latest;
    if (typeof latest === 'string') return latest;
  }
  return undefined;
}
