/** The durable job queue: one active job per artifact, atomic claims, leases that expire. */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { BugError } from '@secure-registry/shared';
import { nowIso, type StoreContext } from './context.js';
import { jobFromRow } from './rows.js';
import type { ArtifactKey, JobRecord, JobStatus } from './store.js';

const ACTIVE_STATUSES = ['queued', 'running'] as const;
const ENQUEUE_TRIES = 5;

/**
 * Inserts a queued job unless the unique index on active jobs already holds one for the
 * artifact, then returns whichever job is active. No read-then-write race: the index decides.
 *
 * `unlessDoneSince` (an ISO time): nor when a job for the artifact finished `done` at or after it —
 * its decision is recorded and applied already. Reconcile passes the time it began reading, so a
 * job another replica finished while it read is not queued a second time; the check is part of the
 * insert statement (a snapshot that sees that job either active or done), not a separate read.
 */
export async function enqueueJob(
  ctx: StoreContext,
  key: ArtifactKey & { resolved?: string | undefined },
  options: { unlessDoneSince?: string | undefined } = {},
): Promise<JobRecord> {
  const since = options.unlessDoneSince;
  for (let attempt = 0; attempt < ENQUEUE_TRIES; attempt++) {
    const now = nowIso(ctx);
    const sameArtifact = (status: 'active' | 'done') =>
      ctx.db
        .selectFrom('jobs')
        .select('id')
        .where('name', '=', key.name)
        .where('version', '=', key.version)
        .where('integrity', '=', key.integrity)
        .where((eb) =>
          status === 'active'
            ? eb('status', 'in', ACTIVE_STATUSES)
            : eb.and([eb('status', '=', 'done'), eb('updated_at', '>=', since ?? now)]),
        );
    const inserted = await ctx.db
      .insertInto('jobs')
      .columns([
        'id',
        'name',
        'version',
        'integrity',
        'resolved',
        'status',
        'attempts',
        'worker_id',
        'locked_until',
        'error',
        'created_at',
        'updated_at',
      ])
      .expression(
        ctx.db
          .selectNoFrom((eb) => [
            eb.val(randomUUID()).as('id'),
            eb.val(key.name).as('name'),
            eb.val(key.version).as('version'),
            eb.val(key.integrity).as('integrity'),
            eb.val(key.resolved ?? null).as('resolved'),
            eb.val('queued').as('status'),
            eb.lit(0).as('attempts'),
            eb.lit(null).as('worker_id'),
            eb.lit(null).as('locked_until'),
            eb.lit(null).as('error'),
            eb.val(now).as('created_at'),
            eb.val(now).as('updated_at'),
          ])
          .$if(since !== undefined, (query) => query.where((eb) => eb.not(eb.exists(sameArtifact('done'))))),
      )
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) {
      // Other replicas' dispatchers wake up (delivered when the insert is committed: it is).
      if (ctx.kind === 'postgres') await sql`SELECT pg_notify(${ctx.jobsChannel}, '')`.execute(ctx.db);
      return jobFromRow(inserted);
    }
    const existing = await ctx.db
      .selectFrom('jobs')
      .selectAll()
      .where(
        'id',
        'in',
        since === undefined ? sameArtifact('active') : sameArtifact('active').union(sameArtifact('done')),
      )
      .orderBy('updated_at', 'desc')
      .executeTakeFirst();
    if (existing) return jobFromRow(existing);
    // The active job finished between the two statements: try the insert again.
  }
  throw new BugError(
    'ERR_SR_STORE_ENQUEUE',
    `could not enqueue ${key.name}@${key.version} after ${ENQUEUE_TRIES} tries`,
  );
}

/**
 * Claims up to `limit` jobs at once: the oldest queued ones (not those put back until a later time,
 * `releaseJob`), and running ones whose lease expired (their worker died). A job this worker holds itself is never reclaimed by it: it is still in its
 * hands (the heartbeat renews it), even if a stalled event loop let the lease run out.
 */
export async function claimJobs(
  ctx: StoreContext,
  options: { workerId: string; limit: number; leaseMs: number },
): Promise<JobRecord[]> {
  if (options.limit < 1) return [];
  const now = nowIso(ctx);
  const lockedUntil = nowIso(ctx, options.leaseMs);
  const claim = async (db: StoreContext['db']): Promise<JobRecord[]> => {
    const candidates = db
      .selectFrom('jobs')
      .select('id')
      .where((eb) =>
        eb.or([
          eb.and([
            eb('status', '=', 'queued'),
            eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]),
          ]),
          eb.and([
            eb('status', '=', 'running'),
            eb('locked_until', '<', now),
            eb.or([eb('worker_id', 'is', null), eb('worker_id', '<>', options.workerId)]),
          ]),
        ]),
      )
      .orderBy('created_at')
      .orderBy('id')
      .limit(options.limit)
      .$if(ctx.kind === 'postgres', (qb) => qb.forUpdate().skipLocked());
    const rows = await db
      .updateTable('jobs')
      .set((eb) => ({
        status: 'running',
        worker_id: options.workerId,
        locked_until: lockedUntil,
        attempts: eb('attempts', '+', 1),
        updated_at: now,
      }))
      .where('id', 'in', candidates)
      .returningAll()
      .execute();
    return rows
      .map(jobFromRow)
      .sort((x, y) => x.createdAt.localeCompare(y.createdAt) || x.id.localeCompare(y.id));
  };
  // PostgreSQL: one statement; the row locks with SKIP LOCKED make concurrent claims disjoint.
  // SQLite: the immediate transaction holds the write lock across the select and the update.
  if (ctx.kind === 'postgres') return claim(ctx.db);
  return ctx.db.transaction().execute(claim);
}

/** Renewal statements carry at most this many job ids. */
const RENEW_CHUNK = 500;

/**
 * Extends the leases of the running jobs this worker holds (one statement per 500 ids) and
 * returns the ids it still holds; a missing id was reclaimed by another worker or finished.
 */
export async function renewJobs(
  ctx: StoreContext,
  options: { workerId: string; jobIds: readonly string[]; leaseMs: number },
): Promise<Set<string>> {
  const held = new Set<string>();
  for (let start = 0; start < options.jobIds.length; start += RENEW_CHUNK) {
    const rows = await ctx.db
      .updateTable('jobs')
      .set({ locked_until: nowIso(ctx, options.leaseMs), updated_at: nowIso(ctx) })
      .where('id', 'in', options.jobIds.slice(start, start + RENEW_CHUNK))
      .where('status', '=', 'running')
      .where('worker_id', '=', options.workerId)
      .returning('id')
      .execute();
    for (const row of rows) held.add(row.id);
  }
  return held;
}

export async function completeJob(
  ctx: StoreContext,
  options: {
    jobId: string;
    status: 'done' | 'failed';
    error: string | undefined;
    workerId: string | undefined;
  },
): Promise<void> {
  await ctx.db
    .updateTable('jobs')
    .set({
      status: options.status,
      error: options.error ?? null,
      locked_until: null,
      updated_at: nowIso(ctx),
    })
    .where('id', '=', options.jobId)
    .$if(options.workerId !== undefined, (qb) =>
      qb.where('status', '=', 'running').where('worker_id', '=', options.workerId ?? ''),
    )
    .execute();
}

/** See `Store.releaseJob`: a queued job's `locked_until` is the time before which it is not claimed. */
export async function releaseJob(
  ctx: StoreContext,
  options: { jobId: string; workerId: string; delayMs: number; error: string; uncount: boolean },
): Promise<boolean> {
  const rows = await ctx.db
    .updateTable('jobs')
    .set((eb) => ({
      status: 'queued',
      worker_id: null,
      locked_until: nowIso(ctx, options.delayMs),
      error: options.error.slice(0, 2000),
      attempts: options.uncount ? eb('attempts', '-', 1) : eb.ref('attempts'),
      updated_at: nowIso(ctx),
    }))
    .where('id', '=', options.jobId)
    .where('status', '=', 'running')
    .where('worker_id', '=', options.workerId)
    .returning('id')
    .execute();
  return rows.length > 0;
}

export async function getJob(ctx: StoreContext, jobId: string): Promise<JobRecord | undefined> {
  const row = await ctx.db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirst();
  return row ? jobFromRow(row) : undefined;
}

export async function countJobs(ctx: StoreContext, status: JobStatus): Promise<number> {
  const row = await ctx.db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('status', '=', status)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A NOTIFY payload that names its sender: `<origin> <message>`. */
export function notifyPayload(ctx: StoreContext, message: string): string {
  return `${ctx.origin} ${message}`;
}

/**
 * The message of a payload sent by another store; undefined when this store sent it. A payload
 * without an origin (a replica of an older version) is another's.
 */
export function fromOtherOrigin(ctx: StoreContext, payload: string): string | undefined {
  const space = payload.indexOf(' ');
  if (space === -1) return payload;
  return payload.slice(0, space) === ctx.origin ? undefined : payload.slice(space + 1);
}

/** How long to wait before listening again after the LISTEN connection failed. */
const RELISTEN_MS = 2_000;

/**
 * PostgreSQL: calls `listener` on every NOTIFY of the jobs channel, listening again (every 2 s)
 * while the connection is broken; a wake-up is sent on each reconnect (NOTIFYs may have been
 * missed). SQLite: nothing to listen to.
 */
export async function watchJobs(
  ctx: StoreContext,
  listener: () => void,
  onError: (error: Error) => void = () => undefined,
): Promise<() => Promise<void>> {
  return watchChannel(ctx, ctx.jobsChannel, () => listener(), listener, onError);
}

/**
 * PostgreSQL: calls `onMessage` with the payload of every NOTIFY on `channel`, listening again
 * (every 2 s) while the connection is broken and calling `onReconnect` once listening again
 * (NOTIFYs may have been missed meanwhile). SQLite: nothing to listen to.
 */
export async function watchChannel(
  ctx: StoreContext,
  channel: string,
  onMessage: (payload: string) => void,
  onReconnect: () => void,
  onError: (error: Error) => void = () => undefined,
): Promise<() => Promise<void>> {
  const listen = ctx.listen;
  if (!listen) return async () => undefined;
  let stopped = false;
  let stop: (() => Promise<void>) | undefined;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    try {
      stop = await listen(channel, onMessage, (error) => {
        onError(error);
        void stop?.();
        stop = undefined;
        if (!stopped) retry = setTimeout(() => void reconnect(), RELISTEN_MS);
      });
    } catch (error) {
      onError(error instanceof Error ? error : new Error(String(error)));
      if (!stopped) retry = setTimeout(() => void reconnect(), RELISTEN_MS);
    }
  };
  const reconnect = async (): Promise<void> => {
    await connect();
    if (stop) onReconnect();
  };
  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await stop?.();
  };
}
