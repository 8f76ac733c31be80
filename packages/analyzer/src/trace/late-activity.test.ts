import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { BehaviourReport, type TraceEvent } from '@secure-registry/shared';
import { reduceEvents, type ReduceInput } from './reduce.js';
import { parseStrace } from './strace-parser.js';

const HOME = '/home/dev';
const PROJECT = '/home/dev/app';
const PKG = '/home/dev/app/node_modules/late-pkg';
const T0 = 1_700_000_000;

// npm (the runner) runs `sh -c "node launch.js"`; launch.js spawns a detached `node -e …` and exits;
// the shell exits; 1.5 s later the detached child reads ~/.npmrc and connects out; the run ends.
const detached = String.raw`
100 ${T0}.000000 execve("/usr/bin/node", ["node", "/opt/sr/runner.js", "/opt/sr/config.json"], 0x1 /* 20 vars */) = 0
100 ${T0}.010000 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 101
101 ${T0}.020000 execve("/bin/sh", ["sh", "-c", "node launch.js"], 0x1 /* 30 vars */) = 0
101 ${T0}.030000 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 102
102 ${T0}.040000 execve("/usr/bin/node", ["node", "launch.js"], 0x1 /* 30 vars */) = 0
102 ${T0}.050000 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 103
103 ${T0}.060000 execve("/usr/bin/node", ["node", "-e", "setTimeout(beacon, 1500)"], 0x1 /* 30 vars */) = 0
102 ${T0}.100000 +++ exited with 0 +++
101 ${T0}.110000 +++ exited with 0 +++
103 ${T0 + 1}.600000 openat(AT_FDCWD</home/dev/app/node_modules/late-pkg>, "/home/dev/.npmrc", O_RDONLY|O_CLOEXEC) = 3</home/dev/.npmrc>
103 ${T0 + 1}.610000 connect(4<TCP:[1]>, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("192.168.1.20")}, 16) = 0
103 ${T0 + 4}.000000 +++ killed by SIGKILL +++
`;

// A benign install: the script spawns a build and waits for it; nothing after the shell exits
// except the runner idling.
const waits = String.raw`
100 ${T0}.000000 execve("/usr/bin/node", ["node", "/opt/sr/runner.js", "/opt/sr/config.json"], 0x1 /* 20 vars */) = 0
100 ${T0}.010000 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 101
101 ${T0}.020000 execve("/bin/sh", ["sh", "-c", "node install.js"], 0x1 /* 30 vars */) = 0
101 ${T0}.030000 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 102
102 ${T0}.040000 execve("/usr/bin/node", ["node", "install.js"], 0x1 /* 30 vars */) = 0
102 ${T0}.050000 connect(4<TCP:[1]>, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("192.168.1.21")}, 16) = 0
102 ${T0}.300000 +++ exited with 0 +++
101 ${T0}.310000 +++ exited with 0 +++
100 ${T0 + 1}.000000 openat(AT_FDCWD</home/dev/app>, "/home/dev/app/notes.txt", O_RDONLY) = 3</home/dev/app/notes.txt>
100 ${T0 + 3}.300000 +++ killed by SIGKILL +++
`;

function sinkHttp(seq: number, ts: number): TraceEvent {
  return {
    seq,
    ts,
    pid: 0,
    kind: 'http',
    method: 'GET',
    host: 'late.invalid',
    path: '/beacon?u=x',
    tls: false,
    headers: { host: 'late.invalid' },
    body: '',
    bodySize: 0,
  };
}

function input(events: TraceEvent[], extra: Partial<ReduceInput> = {}): ReduceInput {
  return {
    events,
    phase: 'install',
    packageName: 'late-pkg@1.0.0',
    packageDir: PKG,
    home: HOME,
    projectDir: PROJECT,
    honeytokens: [],
    status: 'completed',
    durationMs: 4000,
    exitCode: 0,
    ...extra,
  };
}

/** The parsed trace with the sink's events merged in by time, numbered as the sandbox numbers them. */
function merged(text: string, extra: TraceEvent[] = []): TraceEvent[] {
  return [...parseStrace(text), ...extra].sort((a, b) => a.ts - b.ts).map((e, seq) => ({ ...e, seq }));
}

describe('late activity (install phase)', () => {
  test('a detached child: alive after the scripts exited, with its late file read, connection and the sink request', () => {
    const events = merged(detached, [sinkHttp(0, T0 + 1.62)]);
    const report = reduceEvents(input(events));
    BehaviourReport.parse(report);
    const late = report.lateActivity ?? [];
    const alive = late.find((l) => l.what === 'alive');
    assert.equal(alive?.pid, 103);
    assert.deepEqual(alive?.argv, ['node', '-e', 'setTimeout(beacon, 1500)']);
    assert.equal(alive?.afterMs, 3890);
    assert.match(alive?.detail ?? '', /3890 ms after the lifecycle scripts exited/);
    const kinds = late.filter((l) => l.what !== 'alive').map((l) => [l.what, l.pid, l.afterMs]);
    assert.deepEqual(kinds, [
      ['file', 103, 1490],
      ['connect', 103, 1500],
      ['http', 0, 1510],
    ]);
    // The late entries cite the same events as the report's own entries.
    const connect = report.connections.find((c) => c.address === '192.168.1.20');
    assert.deepEqual(late.find((l) => l.what === 'connect')?.seq, connect?.seq);
    // The script processes themselves and the runner are not late.
    assert.ok(!late.some((l) => l.pid === 100 || l.pid === 101 || l.pid === 102));
  });

  test('a script that waits for its children leaves nothing late; the idle runner is not counted', () => {
    const report = reduceEvents(input(merged(waits)));
    assert.deepEqual(report.lateActivity, []);
    assert.equal(report.connections.length, 1);
  });

  test('a sink record within the scheduling tolerance of the exit is not late', () => {
    const report = reduceEvents(input(merged(waits, [sinkHttp(0, T0 + 0.4)])));
    assert.deepEqual(report.lateActivity, []);
  });

  test('not measured outside the install phase, nor when a script never exited (a timeout)', () => {
    assert.equal(reduceEvents(input(merged(detached), { phase: 'import' })).lateActivity, undefined);
    const unfinished = detached
      .split('\n')
      .filter((line) => !line.startsWith('101 ') || !line.includes('+++'))
      .join('\n');
    const timedOut = reduceEvents(input(merged(unfinished), { status: 'timeout' }));
    assert.equal(timedOut.lateActivity, undefined);
  });
});
