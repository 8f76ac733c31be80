/** The durable job queue: one active job per artifact, atomic claims, leases that expire. */
import { randomUUID } from 'node:crypto';
import { BugError } from '@secure-registry/shared';
import { nowIso, type StoreContext } from './context.js';
import { jobFromRow } from './rows.js';
import type { ArtifactKey, JobRecord, JobStatus } from './store.js';

const ACTIVE_STATUSES = ['queued', 'running'] as const;
const ENQUEUE_TRIES = 5;

/**
 * Inserts a queued job unless the unique index on active jobs already holds one for the
 * artifact, then returns whichever job is active. No read-then-write race: the index decides.
 */
export async function enqueueJob(
  ctx: StoreContext,
  key: ArtifactKey & { resolved?: string | undefined },
): Promise<JobRecord> {
  for (let attempt = 0; attempt < ENQUEUE_TRIES; attempt++) {
    const now = nowIso(ctx);
    const inserted = await ctx.db
      .insertInto('jobs')
      .values({
        id: randomUUID(),
        name: key.name,
        version: key.version,
        integrity: key.integrity,
        resolved: key.resolved ?? null,
        status: 'queued',
        attempts: 0,
        worker_id: null,
        locked_until: null,
        error: null,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return jobFromRow(inserted);
    const existing = await ctx.db
      .selectFrom('jobs')
      .selectAll()
      .where('name', '=', key.name)
      .where('version', '=', key.version)
      .where('integrity', '=', key.integrity)
      .where('status', 'in', ACTIVE_STATUSES)
      .executeTakeFirst();
    if (existing) return jobFromRow(existing);
    // The active job finished between the two statements: try the insert again.
  }
  throw new BugError(
    'ERR_SR_STORE_ENQUEUE',
    `could not enqueue ${key.name}@${key.version} after ${ENQUEUE_TRIES} tries`,
  );
}

export async function claimJob(
  ctx: StoreContext,
  workerId: string,
  leaseMs: number,
): Promise<JobRecord | undefined> {
  const now = nowIso(ctx);
  const lockedUntil = nowIso(ctx, leaseMs);
  const claim = async (db: StoreContext['db']): Promise<JobRecord | undefined> => {
    const candidate = db
      .selectFrom('jobs')
      .select('id')
      .where((eb) =>
        eb.or([
          eb('status', '=', 'queued'),
          eb.and([eb('status', '=', 'running'), eb('locked_until', '<', now)]),
        ]),
      )
      .orderBy('created_at')
      .orderBy('id')
      .limit(1)
      .$if(ctx.kind === 'postgres', (qb) => qb.forUpdate().skipLocked());
    const row = await db
      .updateTable('jobs')
      .set((eb) => ({
        status: 'running',
        worker_id: workerId,
        locked_until: lockedUntil,
        attempts: eb('attempts', '+', 1),
        updated_at: now,
      }))
      .where('id', '=', candidate)
      .returningAll()
      .executeTakeFirst();
    return row ? jobFromRow(row) : undefined;
  };
  // PostgreSQL: one statement, the row lock with SKIP LOCKED makes it exclusive. SQLite: the
  // immediate transaction holds the write lock across the select and the update.
  if (ctx.kind === 'postgres') return claim(ctx.db);
  return ctx.db.transaction().execute(claim);
}

export async function renewJob(
  ctx: StoreContext,
  jobId: string,
  workerId: string,
  leaseMs: number,
): Promise<boolean> {
  const result = await ctx.db
    .updateTable('jobs')
    .set({ locked_until: nowIso(ctx, leaseMs), updated_at: nowIso(ctx) })
    .where('id', '=', jobId)
    .where('status', '=', 'running')
    .where('worker_id', '=', workerId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
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
