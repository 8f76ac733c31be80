/**
 * The storage contract. One implementation (`createStore`, Kysely) serves both SQLite and
 * PostgreSQL; everything above this file talks to this interface only.
 */
import type {
  BlockedBy,
  DependencyGraph,
  Finding,
  PackageState,
  ReviewRecord,
  Role,
  ScanCounts,
  ScanEvent,
  ScanStatus,
  SourceKind,
  Verdict,
} from '@secure-registry/shared';
import type { PackageAdvisory } from '../advisories/osv.js';

/** An artifact is identified by name, version and SRI integrity (the strongest hash). */
export interface ArtifactKey {
  name: string;
  version: string;
  integrity: string;
}

export interface ArtifactRecord extends ArtifactKey {
  verdict: Verdict;
  reason: string | undefined;
  findings: Finding[];
  /**
   * Stage reports keyed by stage name, as stored (`ArtifactReports` of @secure-registry/shared, or an
   * older shape): read them with `readArtifactReports`.
   */
  reports: Record<string, unknown>;
  ruleSetVersion: string | undefined;
  /** Path of the stored tarball relative to the artifact store, once fetched. */
  storagePath: string | undefined;
  decidedAt: string | undefined;
  createdAt: string;
}

export interface ScanRecord {
  id: string;
  label: string | undefined;
  status: ScanStatus;
  graph: DependencyGraph;
  createdAt: string;
  completedAt: string | undefined;
}

export interface ScanPackageRecord {
  scanId: string;
  key: string;
  name: string;
  version: string;
  integrity: string | undefined;
  source: SourceKind;
  dev: boolean;
  state: PackageState;
  reason: string | undefined;
  findings: Finding[];
  blockedBy: BlockedBy | undefined;
}

export interface ScanTransition {
  changed: ScanPackageRecord[];
  /** The scan's counts after the change. */
  counts: ScanCounts;
}

export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface JobRecord extends ArtifactKey {
  id: string;
  status: JobStatus;
  /**
   * How many times the job has been claimed, this claim included: 1 on the first claim, one more
   * each time an expired lease is reclaimed. A worker may fail a job whose attempts exceed its
   * limit (a package that kills its worker every time).
   */
  attempts: number;
  /** The worker holding (or that last held) the lease. */
  workerId: string | undefined;
  /** Upstream tarball URL recorded from the lockfile, if any. */
  resolved: string | undefined;
  error: string | undefined;
  lockedUntil: string | undefined;
  createdAt: string;
  updatedAt: string;
}

/** The fields `upsertArtifact` may change. */
export type ArtifactPatch = Partial<Omit<ArtifactRecord, keyof ArtifactKey | 'createdAt'>>;

export interface TokenRecord {
  id: string;
  role: Role;
  label: string | undefined;
  createdAt: string;
}

export interface StoredScanEvent {
  seq: number;
  event: ScanEvent;
}

/** A review decision to append; the store adds its id and time. */
export type NewReviewDecision = Omit<ReviewRecord, 'id' | 'createdAt'>;

export interface ReviewQuery {
  name?: string | undefined;
  version?: string | undefined;
  integrity?: string | undefined;
  /** Default 1000. */
  limit?: number | undefined;
}

export interface Store {
  /** `sqlite` or `postgres`. */
  readonly kind: 'sqlite' | 'postgres';
  /** Applies pending migrations. Idempotent. */
  migrate(): Promise<void>;
  close(): Promise<void>;

  // Artifacts and verdicts
  getArtifact(key: ArtifactKey): Promise<ArtifactRecord | undefined>;
  /** The stored artifacts among `keys`, keyed by `name@version#integrity`; a few queries for many keys. */
  getArtifacts(keys: readonly ArtifactKey[]): Promise<Map<string, ArtifactRecord>>;
  /** The verdicts among `keys` and a signature of each row's decision columns (no reports read). */
  getVerdictSignatures(
    keys: readonly ArtifactKey[],
  ): Promise<Map<string, { verdict: string; reason: string | undefined; signature: string }>>;
  /** All artifacts of a name, any version (for the registry and "previous version" lookups). */
  listArtifactsByName(name: string): Promise<ArtifactRecord[]>;
  /** The names with a stored artifact, or with an approved one (what the upstream watch follows). */
  listArtifactNames(options?: { approvedOnly?: boolean }): Promise<string[]>;
  /**
   * Inserts (as `pending`) or updates, atomically, and returns the stored record. Never
   * downgrades:
   * - a field absent (or `undefined`) in the patch keeps its stored value;
   * - a decided verdict (`approved`, `rejected`, `review`) is only replaced by another decided
   *   verdict given in the patch; `verdict: 'pending'` never replaces a decision;
   * - `reports` merge by stage name (a patch's keys replace only those keys; reports with a
   *   `schemaVersion` are a whole analysis and replace the previous analysis, its stamp and
   *   investigation);
   * - when the verdict changes to a decided one, `decidedAt` becomes now unless the patch gives it.
   */
  upsertArtifact(key: ArtifactKey, patch: ArtifactPatch): Promise<ArtifactRecord>;

  // Scans
  createScan(scan: {
    id: string;
    label: string | undefined;
    graph: DependencyGraph;
    packages: Omit<ScanPackageRecord, 'scanId'>[];
  }): Promise<ScanRecord>;
  getScan(id: string): Promise<ScanRecord | undefined>;
  /** The status alone, without reading the scan's graph. */
  getScanStatus(id: string): Promise<ScanStatus | undefined>;
  setScanStatus(id: string, status: ScanStatus, completedAt?: string): Promise<void>;
  listScanPackages(scanId: string): Promise<ScanPackageRecord[]>;
  /**
   * Changes packages of a running scan in one transaction that holds the scan (other replicas
   * changing it wait). `plan` reads the packages it needs by key and returns the new records of
   * those that change (each one read first); the store writes them, keeps the scan's counts and
   * appends one event per change, `event(package, counts)`, with the counts after all changes. The
   * cost is that of the packages read, not of the scan. Undefined when the scan is not running.
   */
  transitionScanPackages(
    scanId: string,
    plan: (read: (keys: readonly string[]) => Promise<ScanPackageRecord[]>) => Promise<ScanPackageRecord[]>,
    event: (pkg: ScanPackageRecord, counts: ScanCounts) => ScanEvent,
  ): Promise<ScanTransition | undefined>;
  /** Scans (still running) that contain the artifact, with the keys of the matching packages. */
  findRunningScansWithArtifact(key: ArtifactKey): Promise<{ scanId: string; keys: string[] }[]>;

  // Scan events (SSE log, resumable by sequence number)
  /**
   * Appends an event and returns its sequence number: 1, 2, 3... per scan, without gaps, even
   * under concurrent appends. A number is handed out only after every smaller one is committed,
   * so a reader resuming after `seq` never misses an event. Throws if the scan does not exist.
   */
  appendScanEvent(scanId: string, event: ScanEvent): Promise<number>;
  /** Events with a sequence number greater than `afterSeq`, in order. */
  listScanEvents(scanId: string, afterSeq: number): Promise<StoredScanEvent[]>;

  // Durable job queue
  /**
   * Enqueues analysis of an artifact unless a queued or running job for the same artifact
   * exists; returns the job (new or existing). Identical artifacts share one job. With
   * `unlessDoneSince`, nor when a job for it finished `done` at or after that time (returned then).
   */
  enqueueJob(
    key: ArtifactKey & { resolved?: string | undefined },
    options?: { unlessDoneSince?: string | undefined },
  ): Promise<JobRecord>;
  /**
   * Atomically claims up to `limit` jobs: the oldest queued ones and running ones whose lease
   * expired (their worker died; never this worker's own), marking them running with a lease of
   * `leaseMs`. Concurrent claims (other replicas too) get disjoint jobs. Empty when idle.
   */
  claimJobs(workerId: string, limit: number, leaseMs: number): Promise<JobRecord[]>;
  /** `claimJobs` of one job. */
  claimJob(workerId: string, leaseMs: number): Promise<JobRecord | undefined>;
  /**
   * Extends the leases of running jobs this worker holds; returns the ids it still holds. A
   * missing id is not running or another worker holds it (reclaimed): stop working on it then.
   */
  renewJobs(workerId: string, jobIds: readonly string[], leaseMs: number): Promise<Set<string>>;
  /** `renewJobs` of one job: false when the worker no longer holds it. */
  renewJob(jobId: string, workerId: string, leaseMs: number): Promise<boolean>;
  /**
   * Calls `listener` when another process queued jobs (PostgreSQL: LISTEN/NOTIFY, so replicas wake
   * each other; SQLite: never, the claim loop's slow poll covers other processes). Resolves to a
   * function that stops it.
   */
  watchJobs(listener: () => void, onError?: (error: Error) => void): Promise<() => Promise<void>>;
  /**
   * Calls `onScan(scanId)` when another store (another replica) appended events to that scan
   * (PostgreSQL: NOTIFY on the schema's scan-events channel, payload this store's origin and the
   * scan id, so SSE streams on every other replica wake; this store's own appends are not heard
   * back, its process wakes its streams itself; SQLite: never, the stream's poll covers other
   * processes). `onReconnect` runs after the
   * listening connection was re-established (notifications may have been missed).
   */
  watchScanEvents(
    onScan: (scanId: string) => void,
    onReconnect: () => void,
    onError?: (error: Error) => void,
  ): Promise<() => Promise<void>>;
  /**
   * Finishes a job. With `workerId`, only while that worker still holds the running job (a
   * stale worker's late result is ignored; check with `getJob`); without, unconditionally.
   */
  completeJob(jobId: string, status: 'done' | 'failed', error?: string, workerId?: string): Promise<void>;
  /**
   * Puts a running job this worker holds back in the queue, claimable again after `delayMs` (an
   * infrastructure failure such as a full disk: retried later). `uncount`: this claim does not count
   * towards the claims after which a job is given up. False when the worker no longer held it.
   */
  releaseJob(
    jobId: string,
    workerId: string,
    options: { delayMs: number; error: string; uncount: boolean },
  ): Promise<boolean>;
  getJob(jobId: string): Promise<JobRecord | undefined>;
  countJobs(status: JobStatus): Promise<number>;

  // Tokens (only the SHA-256 of a token is stored)
  createToken(token: { id: string; hash: string; role: Role; label?: string }): Promise<TokenRecord>;
  findTokenByHash(hash: string): Promise<TokenRecord | undefined>;

  // Review decisions: append-only (no update or delete exists)
  appendReviewDecision(decision: NewReviewDecision): Promise<ReviewRecord>;
  /** Decisions matching the query, oldest first. */
  listReviewDecisions(query: ReviewQuery): Promise<ReviewRecord[]>;
  /** Artifacts with this verdict (e.g. `review`: held for a person), oldest decision first. */
  listArtifactsByVerdict(verdict: Verdict, limit?: number): Promise<ArtifactRecord[]>;

  // Advisories (published records naming packages as malicious)
  /** Inserts or replaces each advisory by id and package name. */
  putAdvisories(advisories: readonly PackageAdvisory[]): Promise<void>;
  /** Removes the advisories with these ids (withdrawn); returns the package names they named. */
  deleteAdvisories(ids: readonly string[]): Promise<string[]>;
  listAdvisories(name: string): Promise<PackageAdvisory[]>;
}
