import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { render } from 'ink-testing-library';
import { SAMPLE_EVENTS, SAMPLE_RESULT } from '../test-support/scan-fixtures.js';
import { ScanView } from './ScanView.js';
import { initialScanViewState, reduceScanEvent, withResult } from './scan-state.js';

test('the scan view follows events: progress, counts, analysing, findings, then the summary', () => {
  let state = initialScanViewState('package-lock.json', 5);
  const view = render(<ScanView state={state} />);
  assert.match(view.lastFrame()!, /0\/5 \(0%\)/);

  state = reduceScanEvent(state, SAMPLE_EVENTS[0]!);
  state = reduceScanEvent(state, SAMPLE_EVENTS[1]!);
  view.rerender(<ScanView state={state} />);
  let frame = view.lastFrame()!;
  assert.match(frame, /scan scan-1/);
  assert.match(frame, /1\/5 \(20%\)/);
  assert.match(frame, /analysing: evil@1\.0\.1/);
  assert.match(frame, /unvettable 1/);

  state = reduceScanEvent(state, SAMPLE_EVENTS[2]!);
  view.rerender(<ScanView state={state} />);
  frame = view.lastFrame()!;
  assert.doesNotMatch(frame, /analysing:/);
  assert.match(frame, /rejected 1/);
  assert.match(frame, /\[critical\] evil@1\.0\.1 shell-downloader: install script runs a shell dropper/);

  state = withResult(state, SAMPLE_RESULT, 1);
  view.rerender(<ScanView state={state} />);
  frame = view.lastFrame()!;
  assert.match(frame, /5\/5 \(100%\)/);
  const order = [
    'rejected   evil@1.0.1',
    'blocked    parent@2.0.0',
    'review     maybe@3.0.0',
    'unvettable git-dep@0.1.0',
  ].map((s) => frame.indexOf(s));
  assert.ok(
    order.every((i) => i >= 0),
    frame,
  );
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    order,
  );
  assert.match(frame, /depends on rejected evil@1\.0\.1/);
  assert.match(frame, /exit code 1/);
  view.unmount();
});
