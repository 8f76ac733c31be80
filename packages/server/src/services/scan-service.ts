import { UserError } from '@secure-registry/shared';
import { randomUUID } from 'node:crypto';
import type {
  CreateScanRequest,
  Finding,
  PackageState,
  PhaseProgress,
  ScanResult,
  ScanSummary,
  Verdict,
} from '@secure-registry/shared';
import type { ArtifactKey, ScanPackageRecord, Store } from '../storage/store.js';
import type { RegistryClient } from '../upstream/registry-client.js';
import type { ScanEventHub } from './scan-event-hub.js';
import { createAnalysisQueue } from '../scheduler/analysis-queue.js';
import type { AnalysisQueue, QueuedArtifact } from '../scheduler/analysis-queue.js';
import { artifactId, isDecided, planScan } from './scan-planner.js';
import {
  OPEN_STATES,
  indexGraph,
  isSettled,
  isSettledCounts,
  packageStateEvent,
  planBlocked,
  propagateBlocked,
  toScanResult,
  toScanSummary,
} from './scan-view.js';
import type { GraphIndex } from './scan-view.js';

/** Graph indexes kept for blocking (a scan's graph never changes, so any replica may cache it). */
const GRAPH_CACHE_SIZE = 8;

export interface ScanServiceDeps {
  store: Store;
  registry: RegistryClient;
  hub: ScanEventHub;
  /** Queues analyses (../scheduler/analysis-queue.ts); default: the store's queue, no wake-up. */
  queue?: AnalysisQueue | undefined;
}

interface PackageUpdate {
  state: PackageState;
  reason: string | undefined;
  findings: Finding[];
}

/**
 * Scans: creation (plan, enqueue, store), reads, and every state change afterwards. Each change
 * is stored, appended as a ScanEvent and announced to live listeners. Changes to one scan are
 * serialised in this process.
 */
export class ScanService {
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly graphs = new Map<string, GraphIndex>();
  private readonly queue: AnalysisQueue;
  constructor(private readonly deps: ScanServiceDeps) {
    this.queue = deps.queue ?? createAnalysisQueue({ store: deps.store });
  }

  async createScan(request: CreateScanRequest): Promise<ScanSummary> {
    const { store } = this.deps;
    const seen = new Set<string>();
    for (const node of request.graph.nodes) {
      if (seen.has(node.key)) {
        throw new UserError('ERR_SR_DUPLICATE_NODE', `the graph has two nodes with the key ${node.key}`);
      }
      seen.add(node.key);
    }
    const plan = await planScan(request.graph.nodes, { store, registry: this.deps.registry });
    const byKey = new Map(plan.packages.map((pkg) => [pkg.key, pkg]));
    for (const update of planBlocked(request.graph, byKey)) {
      const pkg = byKey.get(update.key)!;
      pkg.state = 'blocked';
      pkg.blockedBy = update.blockedBy;
      pkg.reason = update.reason;
    }
    const id = randomUUID();
    const scan = await store.createScan({
      id,
      label: request.label,
      graph: request.graph,
      packages: plan.packages,
    });
    // The scan first, then its jobs: a job started by the enqueue publishes its steps on the scans
    // containing the artifact, and one started before this scan existed would tell no one (the
    // scan's view then said "none ran" for a package analysed for it). A job that had already
    // finished (queued by an earlier scan) is caught by the re-check below; a crash between the two
    // leaves pending packages that reconcileScan queues when a client follows the scan.
    const queued = await this.queue.queueAnalysis(plan.toEnqueue);
    const jobs = queued.map((job) => ({
      key: { name: job.name, version: job.version, integrity: job.integrity },
      jobId: job.id,
    }));
    if (isSettled(plan.packages)) {
      await this.withLock(id, () => this.completeIfSettled(id));
    } else {
      await this.applyFinishedJobs(id, plan.packages, jobs);
    }
    const current = (await store.getScan(id)) ?? scan;
    return toScanSummary(current, await store.listScanPackages(id));
  }

  async getScanResult(id: string): Promise<ScanResult | undefined> {
    const scan = await this.deps.store.getScan(id);
    if (!scan) return undefined;
    return toScanResult(scan, await this.deps.store.listScanPackages(id));
  }

  /** Marks the pending packages of every running scan containing the artifact as `analyzing`. */
  async markAnalyzing(key: ArtifactKey): Promise<void> {
    for (const { scanId, keys } of await this.deps.store.findRunningScansWithArtifact(key)) {
      const analyzing: PackageUpdate = { state: 'analyzing', reason: undefined, findings: [] };
      const updates = new Map(keys.map((k) => [k, analyzing]));
      await this.withLock(scanId, () => this.applyUpdates(scanId, updates, ['pending']));
    }
  }

  /**
   * Publishes a step of an artifact's analysis (fetch, static, a sandbox phase, investigating) as a
   * `package.phase` event on every running scan that contains the artifact. Ordered with the scan's
   * state changes: a step that ended before the decision is in the log before it.
   */
  async publishPhase(key: ArtifactKey, progress: PhaseProgress): Promise<void> {
    const { store, hub } = this.deps;
    for (const { scanId, keys } of await store.findRunningScansWithArtifact(key)) {
      await this.withLock(scanId, async () => {
        await store.appendScanEvent(scanId, {
          type: 'package.phase',
          keys,
          name: key.name,
          version: key.version,
          ...progress,
        });
        hub.notify(scanId);
      });
    }
  }

  /**
   * Applies an artifact's decision to every running scan that contains it, to the packages in one
   * of the `from` states (default: still open; a person's review decision also moves held ones).
   */
  async applyArtifactDecision(
    key: ArtifactKey,
    decision: { verdict: Verdict; reason: string | undefined; findings: Finding[] },
    from: readonly PackageState[] = ['pending', 'analyzing'],
  ): Promise<void> {
    if (decision.verdict === 'pending') return;
    const update: PackageUpdate = {
      state: decision.verdict,
      reason: decision.reason,
      findings: decision.findings,
    };
    for (const { scanId, keys } of await this.deps.store.findRunningScansWithArtifact(key)) {
      const updates = new Map(keys.map((k) => [k, update]));
      await this.withLock(scanId, () => this.applyUpdates(scanId, updates, from));
    }
  }

  /** Applies the decisions of jobs that finished before the scan existed (they could not find it). */
  private async applyFinishedJobs(
    scanId: string,
    packages: readonly { key: string; name: string; version: string; integrity: string | undefined }[],
    jobs: readonly { key: ArtifactKey; jobId: string }[],
  ): Promise<void> {
    const { store } = this.deps;
    const keysByArtifact = new Map<string, string[]>();
    for (const pkg of packages) {
      if (pkg.integrity === undefined) continue;
      const id = artifactId({ name: pkg.name, version: pkg.version, integrity: pkg.integrity });
      const keys = keysByArtifact.get(id);
      if (keys) keys.push(pkg.key);
      else keysByArtifact.set(id, [pkg.key]);
    }
    const updates = new Map<string, PackageUpdate>();
    for (const { key, jobId } of jobs) {
      const job = await store.getJob(jobId);
      if (!job || job.status === 'queued' || job.status === 'running') continue;
      const artifact = await store.getArtifact(key);
      if (!artifact || artifact.verdict === 'pending') continue;
      const update: PackageUpdate = {
        state: artifact.verdict,
        reason: artifact.reason,
        findings: artifact.findings,
      };
      for (const pkgKey of keysByArtifact.get(artifactId(key)) ?? []) updates.set(pkgKey, update);
    }
    if (updates.size > 0)
      await this.withLock(scanId, () => this.applyUpdates(scanId, updates, ['pending', 'analyzing']));
  }

  /**
   * Brings a running scan up to date with the store: open packages whose artifact was decided get
   * the verdict; with `enqueue`, open packages without a decision get a job (idempotent).
   */
  async reconcileScan(scanId: string, options: { enqueue: boolean }): Promise<void> {
    const { store } = this.deps;
    // Before reading: a job that finishes while this reads (on any replica) has recorded and
    // applied its decision, and is not queued a second time (a minute's margin for replicas'
    // clocks; such a job's decision is applied however long ago it finished).
    const readingSince = new Date(Date.now() - 60_000).toISOString();
    const scan = await store.getScan(scanId);
    if (!scan || scan.status !== 'running') return;
    const updates = new Map<string, PackageUpdate>();
    const toQueue: QueuedArtifact[] = [];
    const nodes = new Map(scan.graph.nodes.map((node) => [node.key, node]));
    for (const pkg of await store.listScanPackages(scanId)) {
      if (!OPEN_STATES.has(pkg.state) || pkg.integrity === undefined) continue;
      const key = { name: pkg.name, version: pkg.version, integrity: pkg.integrity };
      const artifact = await store.getArtifact(key);
      if (isDecided(artifact)) {
        updates.set(pkg.key, {
          state: artifact.verdict,
          reason: artifact.reason,
          findings: artifact.findings,
        });
      } else if (options.enqueue) {
        toQueue.push({ ...key, resolved: nodes.get(pkg.key)?.resolved });
      }
    }
    await this.queue.queueAnalysis(toQueue, { unlessDoneSince: readingSince });
    await this.withLock(scanId, () => this.applyUpdates(scanId, updates, ['pending', 'analyzing']));
  }

  /**
   * Applies updates to the packages in one of the `from` states (a rejection also to blocked ones),
   * blocks the dependents of new rejections, and completes the scan once nothing is open. Costs
   * the packages changed, not the size of the scan.
   */
  private async applyUpdates(
    scanId: string,
    updates: ReadonlyMap<string, PackageUpdate>,
    from: readonly PackageState[],
  ): Promise<void> {
    const { store } = this.deps;
    const rejecting = [...updates.values()].some((update) => update.state === 'rejected');
    // Read before the transaction: a query outside it would wait for it on SQLite.
    const index = rejecting ? await this.graphIndex(scanId) : undefined;
    const result = await store.transitionScanPackages(
      scanId,
      async (read) => {
        const changed = new Map<string, ScanPackageRecord>();
        for (const pkg of await read([...updates.keys()])) {
          const update = updates.get(pkg.key)!;
          const rejectingBlocked = pkg.state === 'blocked' && update.state === 'rejected';
          if (!from.includes(pkg.state) && !rejectingBlocked) continue;
          changed.set(pkg.key, {
            ...pkg,
            state: update.state,
            reason: update.reason,
            findings: update.findings,
            blockedBy: rejectingBlocked ? undefined : pkg.blockedBy,
          });
        }
        const rejected = [...changed.values()]
          .filter((pkg) => pkg.state === 'rejected')
          .map((pkg) => pkg.key);
        if (index && rejected.length > 0) {
          const current = async (keys: readonly string[]): Promise<ScanPackageRecord[]> =>
            (await read(keys)).map((pkg) => changed.get(pkg.key) ?? pkg);
          for (const blocked of await propagateBlocked(index, rejected, current)) {
            const [pkg] = await current([blocked.key]);
            changed.set(blocked.key, {
              ...pkg!,
              state: 'blocked',
              reason: blocked.reason,
              blockedBy: blocked.blockedBy,
            });
          }
        }
        return [...changed.values()];
      },
      packageStateEvent,
    );
    if (!result) return;
    if (result.changed.length > 0) this.deps.hub.notify(scanId);
    if (isSettledCounts(result.counts)) await this.completeIfSettled(scanId);
  }

  private async graphIndex(scanId: string): Promise<GraphIndex | undefined> {
    let index = this.graphs.get(scanId);
    if (!index) {
      const scan = await this.deps.store.getScan(scanId);
      if (!scan) return undefined;
      index = indexGraph(scan.graph);
      if (this.graphs.size >= GRAPH_CACHE_SIZE) this.graphs.delete(this.graphs.keys().next().value!);
    }
    this.graphs.delete(scanId);
    this.graphs.set(scanId, index);
    return index;
  }

  /** Completes a running scan whose packages are all decided, with a `scan.completed` event. */
  private async completeIfSettled(scanId: string): Promise<void> {
    const { store } = this.deps;
    const scan = await store.getScan(scanId);
    if (!scan || scan.status !== 'running') return;
    const packages = await store.listScanPackages(scanId);
    if (!isSettled(packages)) return;
    const completedAt = new Date().toISOString();
    const summary = toScanSummary({ ...scan, status: 'completed', completedAt }, packages);
    // The event first: a reader that sees the status `completed` finds the event in the log.
    await store.appendScanEvent(scanId, { type: 'scan.completed', scan: summary });
    await store.setScanStatus(scanId, 'completed', completedAt);
    this.graphs.delete(scanId);
    this.deps.hub.notify(scanId);
  }

  private withLock<T>(scanId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(scanId) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.locks.set(scanId, tail);
    void tail.then(() => {
      if (this.locks.get(scanId) === tail) this.locks.delete(scanId);
    });
    return next;
  }
}
