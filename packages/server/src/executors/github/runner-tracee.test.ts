// The runner's Tracee mode as pure functions: a phase run's strace events replaced by the recorded
// Tracee events of the sandbox's process tree, and the workflow asking Tracee for the parsed events.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { TRACEE_WORKFLOW_EVENTS, withTraceeEvents, type PhaseRun } from '@secure-registry/analyzer';

const src = new URL('../../../src/executors/github/', import.meta.url);
const recording = (name: string): string => readFileSync(new URL(`fixtures/tracee/${name}`, src), 'utf8');

/** A completed run as runPhase returns it: strace events (pids > 0) and the fake internet's (pid 0). */
function straceRun(): PhaseRun {
  const base = { ts: 1, package: 'fixture-key-read-connect@1.0.0' };
  return {
    status: 'completed',
    exitCode: 0,
    durationMs: 900,
    honeytokens: [],
    home: '/home/maria',
    projectDir: '/home/maria/projects/acme-dashboard',
    packageDir: '/home/maria/projects/acme-dashboard/node_modules/fixture-key-read-connect',
    details: ['strace: 10 lines'],
    events: [
      { ...base, seq: 0, pid: 3, kind: 'process', path: '/usr/bin/true', argv: ['true'] },
      { ...base, seq: 1, pid: 3, kind: 'connect', protocol: 'tcp', address: '198.18.0.7', port: 443, host: 'keys.drop.example' },
      { ...base, seq: 2, ts: 1765099200.0175, pid: 0, kind: 'dns', name: 'keys.drop.example', qtype: 'A' },
    ],
  }; // prettier-ignore
}

describe('the runner with --trace tracee', () => {
  test("Tracee's events of the sandbox replace strace's; the fake internet's stay", () => {
    const run = withTraceeEvents(
      straceRun(),
      recording('key-read-connect.jsonl'),
      'fixture-key-read-connect@1.0.0',
    );
    assert.equal(run.status, 'completed');
    const shown = run.events.map((e) =>
      e.kind === 'process' ? `exec ${e.argv.join(' ')}` : e.kind === 'file' ? `${e.op} ${e.path}` :
      e.kind === 'connect' ? `connect ${e.host ?? e.address}:${e.port}` : e.kind === 'dns' ? `dns ${e.name} pid ${e.pid}` : e.kind,
    ); // prettier-ignore
    assert.deepEqual(shown, [
      'exec node /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/lib/node_modules/npm/lib/run-config.json',
      'read /usr/local/lib/node_modules/npm/lib/run-config.json',
      'exec sh -c node steal.js',
      'exec node steal.js',
      'read /home/maria/projects/acme-dashboard/node_modules/fixture-key-read-connect/steal.js',
      'read /home/maria/.ssh/id_rsa',
      'dns keys.drop.example pid 5132',
      'dns keys.drop.example pid 5132',
      'connect keys.drop.example:443',
      'dns keys.drop.example pid 0',
      'exit',
      'exit',
      'exit',
    ]);
    // Renumbered and attributed; the runner program, bwrap and the sink's own connect are left out.
    assert.deepEqual(run.events.map((e) => e.seq), run.events.map((_, i) => i)); // prettier-ignore
    assert.ok(run.events.every((e) => e.package === 'fixture-key-read-connect@1.0.0'));
    assert.ok(!run.events.some((e) => e.kind === 'process' && e.path === '/usr/bin/true'));
    assert.match(
      run.details.at(-1) ?? '',
      /^tracee: 18 events, 12 of the sandbox's process tree in place of 2 from strace$/,
    );
  });

  test('fail closed: output that is not Tracee events, or a trace without the sandbox', () => {
    const bad = withTraceeEvents(straceRun(), '{"eventName":"sched_process_exec","processId":1}\nnot json', 'p@1');
    assert.deepEqual([bad.status, bad.error], ['error', 'Tracee output unusable: tracee output line 2: not JSON: "not json"']);
    const outside = recording('key-read-connect.jsonl').split('\n').filter((l) => !l.includes('npm-cli.js","')).join('\n');
    for (const text of ['', outside]) {
      const run = withTraceeEvents(straceRun(), text, 'p@1');
      assert.equal(run.status, 'error');
      assert.match(run.error ?? '', /Tracee saw no exec of the sandbox runner/);
    }
    // A sandbox that never started keeps its own error.
    const never: PhaseRun = { ...straceRun(), status: 'error', error: 'sandbox unavailable', home: '', events: [] };
    assert.equal(withTraceeEvents(never, '', 'p@1').error, 'sandbox unavailable');
  }); // prettier-ignore

  test('the workflow asks Tracee for exactly the events the parser maps, and passes its file to the runner', () => {
    const yaml = readFileSync(new URL('../../../../../.github/workflows/analyze-package.yml', src), 'utf8');
    const events = /--events ([\w,]+)/.exec(yaml)?.[1]?.split(',');
    assert.deepEqual(events?.sort(), [...TRACEE_WORKFLOW_EVENTS].sort());
    const out = /--output json:\/out\/([\w.]+)/.exec(yaml)?.[1];
    assert.ok(yaml.includes('-v /tmp/tracee:/out'));
    assert.ok(yaml.includes('-v /tmp/tracee:/tracee:ro'));
    assert.ok(yaml.includes(`--trace tracee --tracee-events /tracee/${out}`));
    assert.match(yaml, /--scope "container=\$SR_CONTAINER_ID"/);
  });
});
