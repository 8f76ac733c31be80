/** The `Store` over Kysely: the same queries for SQLite and PostgreSQL. */
import { randomUUID } from 'node:crypto';
import { Migrator } from 'kysely';
import { SecureRegistryError } from '@secure-registry/shared';
import type { StoreContext } from './context.js';
import { migrationProvider } from './migrations/index.js';
import type { OpenedDatabase } from './open-database.js';
import * as advisories from './advisories.js';
import * as artifacts from './store-artifacts.js';
import * as jobs from './store-jobs.js';
import * as reviews from './reviews.js';
import * as scans from './store-scans.js';
import type { Store } from './store.js';

export class KyselyStore implements Store {
  readonly kind: 'sqlite' | 'postgres';
  readonly #ctx: StoreContext;
  readonly #opened: OpenedDatabase;
  #closed = false;

  constructor(opened: OpenedDatabase, clock: () => number) {
    this.kind = opened.kind;
    this.#ctx = {
      db: opened.db,
      kind: opened.kind,
      clock,
      ...(opened.listen ? { listen: opened.listen.bind(opened) } : {}),
      jobsChannel: `sr_jobs_${(opened.schema ?? 'public').slice(0, 48)}`,
      scanEventsChannel: `sr_scan_events_${(opened.schema ?? 'public').slice(0, 40)}`,
      origin: randomUUID(),
    };
    this.#opened = opened;
  }

  async migrate(): Promise<void> {
    await this.#opened.withSetupLock(async (db, schema) => {
      const migrator = new Migrator({
        db,
        provider: migrationProvider,
        ...(schema === undefined ? {} : { migrationTableSchema: schema }),
      });
      const { error, results } = await migrator.migrateToLatest();
      if (error === undefined) return;
      const failed = results?.find((result) => result.status === 'Error')?.migrationName;
      const message = error instanceof Error ? error.message : String(error);
      throw new SecureRegistryError(
        'ERR_SR_DATABASE_MIGRATION',
        `database migration${failed ? ` ${failed}` : ''} failed: ${message}`,
        { hint: 'a database written by a newer version cannot be opened by an older one', cause: error },
      );
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#ctx.db.destroy();
  }

  getArtifact: Store['getArtifact'] = (key) => artifacts.getArtifact(this.#ctx, key);
  getArtifacts: Store['getArtifacts'] = (keys) => artifacts.getArtifacts(this.#ctx, keys);
  getVerdictSignatures: Store['getVerdictSignatures'] = (keys) =>
    artifacts.getVerdictSignatures(this.#ctx, keys);
  listArtifactsByName: Store['listArtifactsByName'] = (name) =>
    artifacts.listArtifactsByName(this.#ctx, name);
  listArtifactNames: Store['listArtifactNames'] = (options) =>
    artifacts.listArtifactNames(this.#ctx, options?.approvedOnly ?? false);
  upsertArtifact: Store['upsertArtifact'] = (key, patch) => artifacts.upsertArtifact(this.#ctx, key, patch);

  createScan: Store['createScan'] = (scan) => scans.createScan(this.#ctx, scan);
  getScan: Store['getScan'] = (id) => scans.getScan(this.#ctx, id);
  getScanStatus: Store['getScanStatus'] = (id) => scans.getScanStatus(this.#ctx, id);
  setScanStatus: Store['setScanStatus'] = (id, status, completedAt) =>
    scans.setScanStatus(this.#ctx, id, status, completedAt);
  listScanPackages: Store['listScanPackages'] = (scanId) => scans.listScanPackages(this.#ctx, scanId);
  transitionScanPackages: Store['transitionScanPackages'] = (scanId, plan, event) =>
    scans.transitionScanPackages(this.#ctx, scanId, plan, event);
  findRunningScansWithArtifact: Store['findRunningScansWithArtifact'] = (key) =>
    scans.findRunningScansWithArtifact(this.#ctx, key);
  appendScanEvent: Store['appendScanEvent'] = (scanId, event) =>
    scans.appendScanEvent(this.#ctx, scanId, event);
  listScanEvents: Store['listScanEvents'] = (scanId, afterSeq) =>
    scans.listScanEvents(this.#ctx, scanId, afterSeq);

  enqueueJob: Store['enqueueJob'] = (key, options) => jobs.enqueueJob(this.#ctx, key, options);
  claimJobs: Store['claimJobs'] = (workerId, limit, leaseMs) =>
    jobs.claimJobs(this.#ctx, { workerId, limit, leaseMs });
  claimJob: Store['claimJob'] = async (workerId, leaseMs) =>
    (await jobs.claimJobs(this.#ctx, { workerId, limit: 1, leaseMs }))[0];
  renewJobs: Store['renewJobs'] = (workerId, jobIds, leaseMs) =>
    jobs.renewJobs(this.#ctx, { workerId, jobIds, leaseMs });
  renewJob: Store['renewJob'] = async (jobId, workerId, leaseMs) =>
    (await jobs.renewJobs(this.#ctx, { workerId, jobIds: [jobId], leaseMs })).has(jobId);
  watchJobs: Store['watchJobs'] = (listener, onError) => jobs.watchJobs(this.#ctx, listener, onError);
  watchScanEvents: Store['watchScanEvents'] = (onScan, onReconnect, onError) =>
    scans.watchScanEvents(this.#ctx, onScan, onReconnect, onError);
  completeJob: Store['completeJob'] = (jobId, status, error, workerId) =>
    jobs.completeJob(this.#ctx, { jobId, status, error, workerId });
  releaseJob: Store['releaseJob'] = (jobId, workerId, options) =>
    jobs.releaseJob(this.#ctx, { jobId, workerId, ...options });
  getJob: Store['getJob'] = (jobId) => jobs.getJob(this.#ctx, jobId);
  countJobs: Store['countJobs'] = (status) => jobs.countJobs(this.#ctx, status);

  createToken: Store['createToken'] = (token) => artifacts.createToken(this.#ctx, token);
  findTokenByHash: Store['findTokenByHash'] = (hash) => artifacts.findTokenByHash(this.#ctx, hash);

  appendReviewDecision: Store['appendReviewDecision'] = (decision) =>
    reviews.appendReviewDecision(this.#ctx, decision);
  listReviewDecisions: Store['listReviewDecisions'] = (query) =>
    reviews.listReviewDecisions(this.#ctx, query);
  listArtifactsByVerdict: Store['listArtifactsByVerdict'] = (verdict, limit) =>
    reviews.listArtifactsByVerdict(this.#ctx, verdict, limit);

  putAdvisories: Store['putAdvisories'] = (rows) => advisories.putAdvisories(this.#ctx, rows);
  deleteAdvisories: Store['deleteAdvisories'] = (ids) => advisories.deleteAdvisories(this.#ctx, ids);
  listAdvisories: Store['listAdvisories'] = (name) => advisories.listAdvisories(this.#ctx, name);
}
