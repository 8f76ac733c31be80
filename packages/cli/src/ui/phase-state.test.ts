import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { pendingScanCounts } from '@secure-registry/shared';
import type { ScanEvent } from '@secure-registry/shared';
import {
  emptyPhaseState,
  estimateRemainingMs,
  formatDuration,
  phaseSummaryLines,
  reducePhaseEvent,
  settlePackage,
  stepsOf,
} from './phase-state.js';

type PhaseEvent = Extract<ScanEvent, { type: 'package.phase' }>;
const ev = (
  name: string,
  fields: Partial<PhaseEvent> & Pick<PhaseEvent, 'phase' | 'status'>,
): PhaseEvent => ({
  type: 'package.phase',
  keys: [name],
  name,
  version: '1.0.0',
  at: '',
  ...fields,
});

test('steps: a package line lists what it went through; batches, failures and places are tallied', () => {
  let s = emptyPhaseState(0);
  s = reducePhaseEvent(s, ev('a', { phase: 'fetch', status: 'started' }), 0);
  s = reducePhaseEvent(s, ev('a', { phase: 'fetch', status: 'finished', durationMs: 250 }), 250);
  s = reducePhaseEvent(
    s,
    ev('a', {
      phase: 'import',
      status: 'finished',
      durationMs: 1_500,
      sandbox: true,
      executor: 'local',
      batch: 12,
    }),
    2_000,
  );
  s = reducePhaseEvent(
    s,
    ev('b', {
      phase: 'install',
      status: 'failed',
      durationMs: 61_000,
      sandbox: true,
      executor: 'local',
      detail: 'timed out',
    }),
    2_000,
  );
  assert.deepEqual(stepsOf(s, 'a@1.0.0'), ['fetch 0.3s', 'import 1.5s']);
  assert.deepEqual(stepsOf(s, 'b@1.0.0'), ['install failed 1m 01s']);
  const lines = phaseSummaryLines(s);
  assert.match(
    lines.join('\n'),
    /import\s+1 run in the sandbox \(local executor\), batches of up to 12, 1\.5s in all/,
  );
  assert.match(
    lines.join('\n'),
    /install\s+1 run in the sandbox \(local executor\), 1m 01s in all, 1 did not complete \(timed out\)/,
  );
  s = settlePackage(s, 'a@1.0.0', 3_000);
  assert.deepEqual(stepsOf(s, 'a@1.0.0'), []);
  assert.equal(s.analysed, 1);
  assert.equal(
    settlePackage(s, 'never-analysed@1.0.0', 3_000).analysed,
    1,
    'a known verdict is not an analysis',
  );
});

test('the estimate follows the pace of this scan’s analyses', () => {
  let s = emptyPhaseState(0);
  const counts = { ...pendingScanCounts(10), pending: 4, approved: 6 };
  assert.equal(estimateRemainingMs(s, counts, 1_000), undefined);
  s = reducePhaseEvent(s, ev('a', { phase: 'static', status: 'started' }), 1_000);
  s = settlePackage(s, 'a@1.0.0', 3_000);
  s = settlePackage(
    reducePhaseEvent(s, ev('b', { phase: 'static', status: 'started' }), 3_000),
    'b@1.0.0',
    5_000,
  );
  // Two analysed in 4 s since the first step: 4 open → 8 s.
  assert.equal(estimateRemainingMs(s, counts, 5_000), 8_000);
  assert.equal(estimateRemainingMs(s, { ...counts, pending: 0, approved: 10 }, 5_000), undefined);
});

test('durations read as people write them', () => {
  assert.equal(formatDuration(0), '0.0s');
  assert.equal(formatDuration(9_949), '9.9s');
  assert.equal(formatDuration(59_000), '59s');
  assert.equal(formatDuration(125_000), '2m 05s');
  assert.equal(formatDuration(3_725_000), '1h 02m');
});

test('a __proto__ package name is just a name', () => {
  let s = emptyPhaseState(0);
  s = reducePhaseEvent(s, ev('__proto__', { phase: 'fetch', status: 'finished', durationMs: 10 }), 0);
  assert.deepEqual(stepsOf(s, '__proto__@1.0.0'), ['fetch 0.0s']);
  assert.deepEqual(stepsOf(s, 'constructor@1.0.0'), []);
});
