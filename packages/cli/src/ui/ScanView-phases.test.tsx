import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { render } from 'ink-testing-library';
import type { ScanEvent } from '@secure-registry/shared';
import { SAMPLE_EVENTS, SAMPLE_RESULT } from '../test-support/scan-fixtures.js';
import { ScanView } from './ScanView.js';
import { initialScanViewState, reduceScanEvent, withResult } from './scan-state.js';
import type { ScanViewState } from './scan-state.js';

const T0 = Date.parse('2025-01-01T00:00:00Z');

function phase(
  name: string,
  version: string,
  fields: Omit<Extract<ScanEvent, { type: 'package.phase' }>, 'type' | 'keys' | 'name' | 'version' | 'at'>,
): ScanEvent {
  return { type: 'package.phase', keys: [`node_modules/${name}`], name, version, at: '', ...fields };
}

function frameOf(state: ScanViewState): string {
  const view = render(<ScanView state={state} />);
  const frame = view.lastFrame()!;
  view.unmount();
  return frame;
}

test('the scan view shows the steps running now, how long each has run and where, and the ETA', () => {
  let state = initialScanViewState('pnpm-lock.yaml', 5, T0);
  state = reduceScanEvent(state, SAMPLE_EVENTS[0]!, T0);
  state = reduceScanEvent(state, SAMPLE_EVENTS[1]!, T0);
  state = reduceScanEvent(state, phase('evil', '1.0.1', { phase: 'fetch', status: 'started' }), T0);
  let frame = frameOf({ ...state, now: T0 + 2_000 });
  assert.match(frame, /running now/);
  assert.match(frame, /fetch\s+evil@1\.0\.1\s+2\.0s/);
  assert.doesNotMatch(frame, /ETA/, 'no estimate before a package was analysed');

  state = reduceScanEvent(
    state,
    phase('evil', '1.0.1', { phase: 'fetch', status: 'finished', durationMs: 2_000 }),
    T0 + 2_000,
  );
  state = reduceScanEvent(
    state,
    phase('evil', '1.0.1', { phase: 'install', status: 'started', sandbox: true, executor: 'local' }),
    T0 + 2_000,
  );
  state = reduceScanEvent(
    state,
    phase('ok', '1.0.0', { phase: 'import', status: 'started', sandbox: true, executor: 'github' }),
    T0 + 5_000,
  );
  frame = frameOf({ ...state, now: T0 + 14_000 });
  assert.doesNotMatch(frame, /fetch\s+evil/, 'an ended step is no longer running');
  // Longest-running first, each with its own time and place.
  assert.match(frame, /install\s+evil@1\.0\.1\s+12s in the sandbox \(local executor\)/);
  assert.match(frame, /import\s+ok@1\.0\.0\s+9\.0s in the sandbox \(github executor\)/);
  assert.ok(frame.indexOf('install') < frame.indexOf('import '), frame);
  assert.match(frame, /1 done, 4 to go/);
  assert.match(frame, /14s elapsed/);

  // The first analysed package settles after 20 s of analysis: 3 open packages → about 60 s left.
  state = reduceScanEvent(
    state,
    phase('evil', '1.0.1', {
      phase: 'install',
      status: 'finished',
      durationMs: 18_000,
      sandbox: true,
      executor: 'local',
    }),
    T0 + 20_000,
  );
  state = reduceScanEvent(state, SAMPLE_EVENTS[2]!, T0 + 20_000);
  frame = frameOf(state);
  assert.match(frame, /2 done, 3 to go/);
  assert.match(frame, /ETA ~1m 00s/);
  assert.match(frame, /import\s+ok@1\.0\.0/);
  assert.doesNotMatch(frame, /install\s+evil/);

  state = withResult(state, SAMPLE_RESULT, 1);
  frame = frameOf(state);
  assert.doesNotMatch(frame, /running now/);
  assert.match(frame, /analysis in this scan:/);
  assert.match(frame, /fetch\s+1 run, 2\.0s in all/);
  assert.match(frame, /install\s+1 run in the sandbox \(local executor\), 18s in all/);
  assert.match(frame, /sandbox: package code ran in the sandbox \(local executor\)/);
  assert.match(frame, /exit code 1/);
});

test('the scan view says when no analysis ran and when the sandbox did not run a phase', () => {
  let state = initialScanViewState('package-lock.json', 5, T0);
  state = withResult(reduceScanEvent(state, SAMPLE_EVENTS[0]!, T0), SAMPLE_RESULT, 1);
  assert.match(frameOf(state), /analysis: none ran in this scan \(every verdict was already known/);

  state = initialScanViewState('package-lock.json', 5, T0);
  state = reduceScanEvent(
    state,
    phase('evil', '1.0.1', {
      phase: 'install',
      status: 'skipped',
      sandbox: false,
      detail: 'sandbox unavailable: missing bwrap',
    }),
    T0,
  );
  const frame = frameOf(withResult(state, SAMPLE_RESULT, 1));
  assert.match(frame, /install\s+1 not run \(sandbox unavailable: missing bwrap\)/);
  assert.match(frame, /sandbox: no package code ran \(1 phase not run\)/);
});
