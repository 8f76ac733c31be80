import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { Store } from './store.js';
import { BACKENDS, manualClock, withDatabase, type TestDatabase } from './test-support/backends.js';

const ART = { name: 'lodash', version: '4.17.21', integrity: 'sha512-LODASH' };

/** One store on SQLite (one connection per process); two pools on PostgreSQL. */
async function openStores(database: TestDatabase, clock?: () => number): Promise<[Store, ...Store[]]> {
  const first = await database.open({ clock });
  if (database.kind === 'sqlite') return [first];
  return [first, await database.open({ clock })];
}

for (const backend of BACKENDS) {
  describe(`storage job queue (${backend.kind})`, () => {
    test('20 concurrent enqueues of one artifact make one job', () =>
      withDatabase(backend, async (database) => {
        const stores = await openStores(database);
        const jobs = await Promise.all(
          Array.from({ length: 20 }, (_, index) =>
            stores[index % stores.length]!.enqueueJob({ ...ART, resolved: 'https://registry.example/l.tgz' }),
          ),
        );
        assert.equal(new Set(jobs.map((job) => job.id)).size, 1);
        assert.equal(await stores[0].countJobs('queued'), 1);
        const job = await stores[0].getJob(jobs[0]!.id);
        assert.equal(job?.status, 'queued');
        assert.equal(job?.attempts, 0);
        assert.equal(job?.resolved, 'https://registry.example/l.tgz');
        // Another integrity of the same version is another artifact: another job.
        const other = await stores[0].enqueueJob({ ...ART, integrity: 'sha512-OTHER' });
        assert.notEqual(other.id, job?.id);
      }));

    test('a running job still dedupes; a finished one does not', () =>
      withDatabase(backend, async (database) => {
        const [store] = await openStores(database);
        const first = await store.enqueueJob(ART);
        const claimed = await store.claimJob('w1', 60_000);
        assert.equal(claimed?.id, first.id);
        assert.equal((await store.enqueueJob(ART)).id, first.id, 'running jobs are shared');
        await store.completeJob(first.id, 'failed', 'sandbox crashed', 'w1');
        const failed = await store.getJob(first.id);
        assert.equal(failed?.status, 'failed');
        assert.equal(failed?.error, 'sandbox crashed');
        assert.equal(failed?.lockedUntil, undefined);
        const again = await store.enqueueJob(ART);
        assert.notEqual(again.id, first.id);
        assert.equal(again.status, 'queued');
      }));

    test('unlessDoneSince: a job that finished done since then is not queued again; a failed one is', () =>
      withDatabase(backend, async (database) => {
        const stores = await openStores(database);
        const [store] = stores;
        const since = new Date(Date.now() - 60_000).toISOString();
        const first = await store.enqueueJob(ART);
        const claimed = await store.claimJob('w1', 60_000);
        assert.equal(claimed?.id, first.id);
        // While it runs, a reconcile on another connection (replica) shares it.
        const other = stores.at(-1)!;
        assert.equal((await other.enqueueJob(ART, { unlessDoneSince: since })).id, first.id);
        await store.completeJob(first.id, 'done', undefined, 'w1');
        // Finished done after `since` (a reconcile's read began before it): the same job, no new one.
        const after = await other.enqueueJob(ART, { unlessDoneSince: since });
        assert.equal(after.id, first.id);
        assert.equal(after.status, 'done');
        assert.equal(await store.countJobs('queued'), 0);
        // A done job from before `since` does not count, nor does a failed one: queued again.
        const later = new Date(Date.now() + 1_000).toISOString();
        const requeued = await other.enqueueJob(ART, { unlessDoneSince: later });
        assert.notEqual(requeued.id, first.id);
        assert.equal(requeued.status, 'queued');
        // A failed job since then is not a decision: queued again.
        const art2 = { ...ART, version: '4.17.20' };
        const failing = await store.enqueueJob(art2);
        await store.completeJob(failing.id, 'failed', 'upstream down');
        const afterFailure = await other.enqueueJob(art2, { unlessDoneSince: since });
        assert.notEqual(afterFailure.id, failing.id);
        assert.equal(afterFailure.status, 'queued');
      }));

    test('concurrent claimers each get distinct jobs; every job is claimed once', () =>
      withDatabase(backend, async (database) => {
        const stores = await openStores(database);
        const total = 30;
        for (let index = 0; index < total; index++) {
          await stores[0].enqueueJob({
            name: `pkg-${index}`,
            version: '1.0.0',
            integrity: `sha512-${index}`,
          });
        }
        const claims = new Map<string, string[]>();
        const worker = async (workerId: string, store: Store) => {
          for (;;) {
            const job = await store.claimJob(workerId, 60_000);
            if (!job) return;
            assert.equal(job.status, 'running');
            assert.equal(job.workerId, workerId);
            assert.equal(job.attempts, 1);
            claims.set(job.id, [...(claims.get(job.id) ?? []), workerId]);
          }
        };
        await Promise.all(
          Array.from({ length: 6 }, (_, index) => worker(`w${index}`, stores[index % stores.length]!)),
        );
        assert.equal(claims.size, total);
        for (const [id, holders] of claims)
          assert.equal(holders.length, 1, `job ${id} claimed by ${holders.join(',')}`);
        assert.equal(await stores[0].countJobs('running'), total);
        assert.equal(await stores[0].countJobs('queued'), 0);
      }));

    test('jobs are claimed oldest first', () =>
      withDatabase(backend, async (database) => {
        const clock = manualClock();
        const store = await database.open({ clock: clock.now });
        const ids: string[] = [];
        for (let index = 0; index < 3; index++) {
          ids.push((await store.enqueueJob({ ...ART, version: `1.0.${index}` })).id);
          clock.advance(10);
        }
        const claimed = [];
        for (let index = 0; index < 3; index++) claimed.push((await store.claimJob('w', 1000))?.id);
        assert.deepEqual(claimed, ids);
        assert.equal(await store.claimJob('w', 1000), undefined);
      }));

    test('an expired lease is reclaimed with attempts incremented; the old holder loses it', () =>
      withDatabase(backend, async (database) => {
        const clock = manualClock();
        const store = await database.open({ clock: clock.now });
        const job = await store.enqueueJob(ART);
        const first = await store.claimJob('dead-worker', 1000);
        assert.equal(first?.id, job.id);
        assert.equal(first?.attempts, 1);
        assert.equal(first?.lockedUntil, new Date(clock.now() + 1000).toISOString());
        clock.advance(999);
        assert.equal(await store.claimJob('w2', 1000), undefined, 'a live lease is not reclaimed');
        clock.advance(2);
        const second = await store.claimJob('w2', 5000);
        assert.equal(second?.id, job.id);
        assert.equal(second?.attempts, 2);
        assert.equal(second?.workerId, 'w2');
        assert.equal(await store.renewJob(job.id, 'dead-worker', 5000), false, 'the old holder cannot renew');
        await store.completeJob(job.id, 'done', undefined, 'dead-worker');
        assert.equal((await store.getJob(job.id))?.status, 'running', 'a stale completion is ignored');
        clock.advance(4000);
        assert.equal(await store.renewJob(job.id, 'w2', 5000), true);
        assert.equal((await store.getJob(job.id))?.lockedUntil, new Date(clock.now() + 5000).toISOString());
        clock.advance(4000);
        assert.equal(await store.claimJob('w3', 1000), undefined, 'a renewed lease holds');
        await store.completeJob(job.id, 'done', undefined, 'w2');
        const done = await store.getJob(job.id);
        assert.equal(done?.status, 'done');
        assert.equal(done?.attempts, 2);
        clock.advance(60_000);
        assert.equal(await store.claimJob('w3', 1000), undefined, 'finished jobs are never claimed');
      }));

    test('renew fails for a wrong worker, a queued job and an unknown job', () =>
      withDatabase(backend, async (database) => {
        const store = await database.open();
        const job = await store.enqueueJob(ART);
        assert.equal(await store.renewJob(job.id, 'w1', 1000), false, 'not running yet');
        await store.claimJob('w1', 1000);
        assert.equal(await store.renewJob(job.id, 'w2', 1000), false);
        assert.equal(await store.renewJob('no-such-job', 'w1', 1000), false);
        assert.equal(await store.renewJob(job.id, 'w1', 1000), true);
        await store.completeJob(job.id, 'done');
        assert.equal(await store.renewJob(job.id, 'w1', 1000), false, 'finished');
        assert.equal(await store.countJobs('done'), 1);
        assert.equal(await store.getJob('no-such-job'), undefined);
      }));

    test('claimJobs: disjoint batches oldest first; renewJobs keeps what is held; no self-reclaim', () =>
      withDatabase(backend, async (database) => {
        const clock = manualClock();
        const stores = await openStores(database, clock.now);
        const [store] = stores;
        for (let index = 0; index < 7; index++) {
          await store.enqueueJob({ ...ART, name: `p${index}` });
          clock.advance(1);
        }
        const batches = await Promise.all([
          stores[0].claimJobs('a', 3, 1000),
          stores[stores.length - 1]!.claimJobs('b', 3, 1000),
        ]);
        const ids = batches.flat().map((job) => job.id);
        assert.equal(ids.length, 6);
        assert.equal(new Set(ids).size, 6, 'no job in two batches');
        const rest = await store.claimJobs('c', 5, 1000);
        assert.deepEqual(
          rest.map((job) => job.name),
          ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6'].filter(
            (name) => !batches.flat().some((job) => job.name === name),
          ),
        );
        assert.deepEqual(await store.claimJobs('c', 5, 1000), [], 'nothing left');
        const [first] = batches;
        const held = await store.renewJobs('a', [...first!.map((job) => job.id), rest[0]!.id], 1000);
        assert.deepEqual([...held].sort(), first!.map((job) => job.id).sort(), "only a's jobs");
        clock.advance(5000);
        const byA = await store.claimJobs('a', 10, 1000);
        const mine = new Set(first!.map((job) => job.id));
        assert.equal(byA.length, 4, "b's and c's expired jobs");
        assert.ok(
          byA.every((job) => !mine.has(job.id)),
          'a worker never reclaims its own job',
        );
        const reclaimed = await store.claimJobs('d', 10, 1000);
        assert.deepEqual(
          new Set(reclaimed.map((job) => job.id)),
          mine,
          "a's expired jobs go to another worker",
        );
        assert.ok(reclaimed.every((job) => job.attempts === 2));
      }));
  });
}
