import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runPhase } from '@secure-registry/analyzer';
import type { BehaviourReport } from '@secure-registry/shared';
import { PhaseBatcher, reduceRun, type BatchItem, type PhaseBatcherOptions } from './phase-batcher.js';
import { SandboxSlots } from './sandbox-slots.js';

describe('PhaseBatcher (real sandbox)', { timeout: 180_000 }, () => {
  let root = '';
  const item = async (name: string, version: string, code: string): Promise<BatchItem> => {
    const dir = join(root, `${name}-${version}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name, version, main: 'index.js' }));
    await writeFile(join(dir, 'index.js'), code);
    return { name, version, dir };
  };
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'sr-batcher-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  /** An import-phase batcher over the real sandbox whose runs alone are recorded with `alone`. */
  const importBatcher = (o: {
    graceMs: number;
    alone: (item: BatchItem) => void;
    notable?: (report: BehaviourReport) => boolean;
    /** Awaited by every run alone before it starts. */
    gate?: Promise<void>;
    more?: Partial<PhaseBatcherOptions>;
  }): PhaseBatcher =>
    new PhaseBatcher({
      phase: 'import',
      slots: new SandboxSlots(2, 30_000),
      graceMs: o.graceMs,
      collectMs: 100,
      baseline: () => undefined,
      runAlone: async (i) => {
        o.alone(i);
        await o.gate;
        const run = await runPhase({
          phase: 'import',
          packageName: i.name,
          packageVersion: i.version,
          packageDir: i.dir,
          timeoutMs: 30_000,
          graceMs: o.graceMs,
        });
        return { report: reduceRun('import', i, run, undefined), run, timeoutMs: 30_000, batch: { size: 1 } };
      },
      notable: o.notable ?? (() => false),
      ...o.more,
    });

  test('two versions of one name never share a batch; an artifact submitted twice runs once', async () => {
    const alone: string[] = [];
    const batcher = importBatcher({ graceMs: 300, alone: (i) => alone.push(`${i.name}@${i.version}`) });
    const a1 = await item('fixture-twice', '1.0.0', 'module.exports = 1;\n');
    const a2 = await item('fixture-twice', '2.0.0', 'module.exports = 2;\n');
    const b = await item('fixture-other', '1.0.0', 'module.exports = 3;\n');
    const [r1, r2, rb, again] = await Promise.all([
      batcher.submit(a1),
      batcher.submit(a2),
      batcher.submit(b),
      batcher.submit(a1),
    ]);
    for (const r of [r1, r2, rb, again]) assert.equal(r?.run.status, 'completed', JSON.stringify(r?.run));
    // The first batch: fixture-twice@1 (for both submissions) and fixture-other; 2.0.0 waited and ran alone.
    assert.equal(r1?.batch.size, 2);
    assert.equal(rb?.batch.size, 2);
    assert.equal(again, r1);
    assert.deepEqual(alone, ['fixture-twice@2.0.0']);
    assert.ok(r2?.run.events.some((e) => e.kind === 'file' && e.path.endsWith('fixture-twice/index.js')));
  });

  test('a package whose report would raise a finding in a shared loader is run again alone, with its loader-mates', async () => {
    const alone: string[] = [];
    const quiet = await item('fixture-quiet', '1.0.0', 'module.exports = 1;\n');
    const loud = await item(
      'fixture-loud',
      '1.0.0',
      "require('dns').lookup('loud.invalid', () => {});\nmodule.exports = 2;\n",
    );
    const batcher = importBatcher({
      graceMs: 500,
      alone: (i) => alone.push(i.name),
      // Stands in for the rule set: any DNS lookup is "a finding" here.
      notable: (report) => report.dns.length > 0,
    });
    const [q, l] = await Promise.all([batcher.submit(quiet), batcher.submit(loud)]);
    assert.equal(q?.batch.size, 2);
    // Loaded in that order (no dependencies between them): loud shared its loader with quiet.
    assert.deepEqual(alone.sort(), ['fixture-loud', 'fixture-quiet']);
    assert.match(l?.batch.isolated ?? '', /shared/);
    assert.ok(
      l?.report.dns.some((d) => d.name === 'loud.invalid'),
      JSON.stringify(l?.report.dns),
    );
    assert.deepEqual(q?.report.dns, []);
  });

  test('a package that is not run again alone has its outcome while a neighbour still runs alone', async () => {
    const alone: string[] = [];
    let open = (): void => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const early = await item('fixture-early', '1.0.0', 'module.exports = 1;\n');
    const late = await item('fixture-late', '1.0.0', "require('dns').lookup('late.invalid', () => {});\n");
    // Strict DNS: a package that asked a name is run again alone; one loader each, so only that one.
    const batcher = importBatcher({
      graceMs: 500,
      alone: (i) => alone.push(i.name),
      gate,
      more: { strictDns: true, groupSize: 1 },
    });
    const lateOutcome = batcher.submit(late);
    const earlyOutcome = await batcher.submit(early);
    // The batch's outcome for fixture-early came while fixture-late's run alone had not started.
    assert.equal(earlyOutcome.batch.size, 2);
    assert.equal(earlyOutcome.batch.isolated, undefined);
    assert.deepEqual(alone, ['fixture-late']);
    open();
    const l = await lateOutcome;
    assert.match(l.batch.isolated ?? '', /strict DNS/);
  });
});
