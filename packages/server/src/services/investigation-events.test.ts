import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import type { BehaviourReport, TraceEvent } from '@secure-registry/shared';
import { dynamicPhases, queryEvents } from './investigation-events.js';

const REPORT: BehaviourReport = {
  phase: 'import',
  package: 'p@1.0.0',
  status: 'completed',
  durationMs: 5,
  processes: [],
  files: [],
  dns: [{ name: 'a.invalid', qtype: 'A', seq: [2] }],
  connections: [],
  http: [],
  honeytokenHits: [],
  decoys: [],
  browser: [],
};
const EVENTS: TraceEvent[] = [
  { seq: 1, ts: 0, pid: 7, kind: 'process', path: '/usr/bin/node', argv: ['node', '-e', 'require("p")'] },
  { seq: 2, ts: 1, pid: 7, kind: 'dns', name: 'a.invalid', qtype: 'A' },
];

test('reads the dynamic stage shape { ...report, events, eventsOmitted } and skips invalid events', () => {
  const phases = dynamicPhases({
    static: { schemaVersion: 1 },
    sandbox: { planned: ['import'] },
    import: { ...REPORT, events: [...EVENTS, { seq: 3, kind: 'nonsense' }], eventsOmitted: 40 },
  });
  assert.equal(phases.length, 1);
  assert.equal(phases[0]?.phase, 'import');
  assert.deepEqual(phases[0]?.report?.dns, REPORT.dns);
  assert.deepEqual(phases[0]?.events, EVENTS);
  assert.equal(phases[0]?.omitted, 40);
});

test('reads { report, events }, a bare event list, and ignores static-only reports', () => {
  assert.deepEqual(dynamicPhases({ static: {} }), []);
  const wrapped = dynamicPhases({ install: { report: { ...REPORT, phase: 'install' }, events: EVENTS } });
  assert.equal(wrapped[0]?.report?.phase, 'install');
  const bare = dynamicPhases({ browser: EVENTS });
  assert.equal(bare[0]?.report, undefined);
  assert.equal(bare[0]?.events.length, 2);
});

test('queryEvents combines criteria and orders by phase then sequence', () => {
  const phases = dynamicPhases({ import: { ...REPORT, events: EVENTS }, install: EVENTS });
  const all = queryEvents(phases, { limit: 10 });
  assert.deepEqual(
    all.events.map((e) => `${e.phase}:${e.seq}`),
    ['install:1', 'install:2', 'import:1', 'import:2'],
  );
  const dns = queryEvents(phases, { kind: 'dns', phase: 'import', limit: 10 });
  assert.deepEqual(
    dns.events.map((e) => `${e.phase}:${e.seq}`),
    ['import:2'],
  );
  const none = queryEvents(phases, { host: 'a.invalid', process: 'python', limit: 10 });
  assert.equal(none.total, 0);
});
