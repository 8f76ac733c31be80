// What a batch's outcome keeps in memory: once a package's outcome is handed over, the batcher holds
// neither it nor the batch, even while a neighbour is still being run alone.
import { strict as assert } from 'node:assert';
import { setTimeout as delay } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, test } from 'node:test';
import type { BatchPackageRun, BatchRun } from '@secure-registry/analyzer';
import type { TraceEvent } from '@secure-registry/shared';
import { PhaseBatcher, reduceRun, type PhaseOutcome } from './phase-batcher.js';
import { SandboxSlots } from './sandbox-slots.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Garbage-collects once nothing of the current job keeps a WeakRef's target alive. */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  await delay(10);
  gc();
  await delay(10);
  return ref.deref() === undefined;
}

function packageRun(name: string, needsIsolation: boolean): BatchPackageRun {
  const events: TraceEvent[] = Array.from({ length: 1000 }, (_, seq) => ({
    seq,
    ts: seq,
    pid: 7,
    kind: 'file',
    op: 'read',
    path: `/home/user/project/node_modules/${name}/file-${seq}.js`,
    package: `${name}@1.0.0`,
  })) as TraceEvent[];
  return {
    name,
    version: '1.0.0',
    id: `${name}@1.0.0`,
    packageDir: `/home/user/project/node_modules/${name}`,
    status: 'completed',
    ran: true,
    durationMs: 1,
    events,
    ambiguousSeqs: [],
    needsIsolation,
    sharedWith: [],
    details: [],
  } as unknown as BatchPackageRun;
}

describe('PhaseBatcher memory', () => {
  test("a package's events and the batch are let go while a neighbour still runs alone", async () => {
    let batchRef: WeakRef<object> | undefined;
    let open = (): void => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const batcher = new PhaseBatcher({
      phase: 'import',
      slots: new SandboxSlots(1, 30_000),
      graceMs: 0,
      collectMs: 10,
      baseline: () => undefined,
      notable: () => false,
      // A stand-in for runBatch: the second package's attribution is not certain, so it runs again alone.
      run: async (options) => {
        const batch = {
          status: 'completed',
          durationMs: 1,
          packages: options.packages.map((p) => packageRun(p.name, p.name === 'fixture-alone')),
          ambiguous: [],
          honeytokens: [],
          home: '/home/user',
          projectDir: '/home/user/project',
          details: [],
          isolate: () => {
            throw new Error('not used');
          },
        } as unknown as BatchRun;
        batchRef = new WeakRef(batch);
        return batch;
      },
      runAlone: async (item) => {
        await gate;
        const run = { ...packageRun(item.name, false), honeytokens: [], home: '', projectDir: '' };
        return {
          report: reduceRun('import', item, run, undefined),
          run,
          timeoutMs: 30_000,
          batch: { size: 1 },
        } as PhaseOutcome;
      },
    });
    const alone = batcher.submit({ name: 'fixture-alone', version: '1.0.0', dir: '/nonexistent/a' });
    let kept: PhaseOutcome | undefined = await batcher.submit({
      name: 'fixture-kept',
      version: '1.0.0',
      dir: '/nonexistent/k',
    });
    assert.equal(kept.run.events.length, 1000);
    assert.equal(kept.report.status, 'completed');
    const eventsRef = new WeakRef(kept.run.events);
    kept = undefined;
    assert.ok(await collected(eventsRef), "the kept package's events are still held by the batcher");
    assert.ok(batchRef && (await collected(batchRef)), 'the batch is still held by the batcher');
    open();
    assert.equal((await alone).batch.isolated, 'its attribution in the batch was not certain');
  });
});
