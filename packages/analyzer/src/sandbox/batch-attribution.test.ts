import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import type { TraceEvent } from '@secure-registry/shared';
import { attributeBatch, sequencePackageEvents } from './batch-attribution.js';
import { LOAD_MARKER_PREFIX, RUNNER_IN_SANDBOX } from './sandbox-env.js';
import { dependencyOrder } from './prepare-batch.js';
import type { SinkRecord } from './sink-protocol.js';

const A = '/home/maria/projects/acme-dashboard/node_modules/a';
const B = '/home/maria/projects/acme-dashboard/node_modules/b';
let seq = 0;
const proc = (pid: number, ppid: number, ts: number, argv: string[], extra: object = {}): TraceEvent =>
  ({ seq: seq++, ts, pid, ppid, kind: 'process', path: `/usr/bin/${argv[0]}`, argv, ...extra }) as TraceEvent;
const file = (pid: number, ts: number, path: string): TraceEvent => ({
  seq: seq++,
  ts,
  pid,
  kind: 'file',
  op: 'read',
  path,
});
const connect = (pid: number, ts: number, address: string, port: number): TraceEvent => ({
  seq: seq++,
  ts,
  pid,
  kind: 'connect',
  protocol: 'tcp',
  address,
  port,
});

/** Runner 100; package a's script 101 (cwd a) forks 150 which double-forks a detached 201; b's script 102. */
function installTrace(): TraceEvent[] {
  return [
    proc(100, 1, 10, ['node', RUNNER_IN_SANDBOX, 'config.json']),
    file(100, 10.1, '/usr/local/lib/node_modules/npm/lib/run-config.json'),
    // a's script claims to be b through its environment: the runner's cwd decides, not the env.
    proc(101, 100, 11, ['sh', '-c', 'node launch.js'], { cwd: A, env: { npm_package_name: 'b' } }),
    proc(150, 101, 11.1, ['node', 'launch.js'], { cwd: A }),
    proc(201, 150, 11.2, ['node', '-e', 'beacon'], { cwd: '/tmp' }),
    file(201, 11.3, '/home/maria/.npmrc'),
    connect(201, 14, '198.18.0.10', 443),
    proc(102, 100, 12, ['sh', '-c', 'node build.js'], { cwd: B }),
    file(102, 12.1, `${B}/build.js`),
    { seq: seq++, ts: 12.2, pid: 102, kind: 'dns', name: 'b.example', qtype: 'A' },
    connect(102, 14.1, '198.18.0.10', 443),
    // A direct child of the runner the attribution cannot identify.
    proc(103, 100, 13, ['sh', '-c', 'true'], { cwd: '/tmp' }),
    file(103, 13.1, '/etc/passwd'),
  ];
}

describe('batch attribution', () => {
  test('process tree: a detached grandchild stays with its package; the env cannot reassign it', () => {
    const result = attributeBatch({
      trace: installTrace(),
      runnerPid: 100,
      packageDirs: [A, B],
      ran: [true, true],
      records: [],
      messages: [],
    });
    const a = result.byPackage[0] ?? [];
    assert.ok(
      a.some((x) => x.event.kind === 'file' && x.event.path === '/home/maria/.npmrc' && !x.ambiguous),
    );
    assert.ok(a.some((x) => x.event.kind === 'process' && x.event.pid === 201));
    assert.ok(!(result.byPackage[1] ?? []).some((x) => x.event.pid === 201 || x.event.pid === 101));
    assert.equal(result.runnerEvents, 2);
    // pid 103 is nobody's: ambiguous for the packages active around then.
    const unknown = result.ambiguous.find((x) => x.event.kind === 'file' && x.event.path === '/etc/passwd');
    assert.ok(unknown);
    assert.ok(unknown.candidates.length > 0);
  });

  test('sink records: by socket owner, by client port, by trace correlation, else ambiguous', () => {
    const records: SinkRecord[] = [
      { t: 'conn', ts: 14.01, address: '198.18.0.10', port: 443, clientPort: 40001, pid: 201 },
      {
        t: 'http',
        ts: 14.05,
        method: 'POST',
        host: 'x.example',
        path: '/a',
        tls: true,
        headers: {},
        body: 'token',
        bodySize: 5,
        address: '198.18.0.10',
        port: 443,
        clientPort: 40001,
      },
      { t: 'dns', ts: 12.21, name: 'B.example', qtype: 'A', transport: 'udp' },
      { t: 'conn', ts: 14.11, address: '198.18.0.10', port: 443, clientPort: 40002 },
      {
        t: 'http',
        ts: 14.2,
        method: 'GET',
        host: 'x.example',
        path: '/b',
        tls: true,
        headers: {},
        body: '',
        bodySize: 0,
        address: '198.18.0.10',
        port: 443,
        clientPort: 40002,
      },
    ];
    const result = attributeBatch({
      trace: installTrace(),
      runnerPid: 100,
      packageDirs: [A, B],
      ran: [true, true],
      records,
      messages: [{ type: 'browser', index: 1, api: 'fetch', action: 'wrapped', detail: 'x', ts: 15 }],
    });
    const [a, b] = [result.byPackage[0] ?? [], result.byPackage[1] ?? []];
    const post = a.find((x) => x.event.kind === 'http' && x.event.path === '/a');
    assert.ok(post && !post.ambiguous, 'joined to its connection and the owner pid');
    assert.equal(post.event.pid, 201);
    assert.ok(!b.some((x) => x.event.kind === 'http' && x.event.path === '/a'));
    assert.ok(
      b.some((x) => x.event.kind === 'dns' && x.event.pid === 0 && !x.ambiguous),
      'DNS by name',
    );
    assert.ok(!a.some((x) => x.event.kind === 'dns'));
    // Both packages connected to the same address and port: the GET without owner is ambiguous.
    const get = result.ambiguous.find((x) => x.event.kind === 'http' && x.event.path === '/b');
    assert.deepEqual(get?.candidates.sort(), [0, 1]);
    assert.ok(a.some((x) => x.event.kind === 'http' && x.event.path === '/b' && x.ambiguous));
    assert.ok(b.some((x) => x.event.kind === 'browser' && !x.ambiguous));
    assert.deepEqual(result.stats, { owner: 1, correlated: 1, ambiguous: 1 });

    const seqd = sequencePackageEvents({
      events: a,
      packageId: 'a@1.0.0',
      names: new Map([['198.18.0.10', 'x.example']]),
    });
    assert.deepEqual(
      seqd.events.map((e) => e.seq),
      seqd.events.map((_, i) => i),
    );
    for (const s of seqd.ambiguousSeqs) assert.equal(seqd.events[s]?.package, undefined);
    assert.ok(
      seqd.events
        .filter((e) => e.kind === 'connect')
        .every((e) => e.kind === 'connect' && e.host === 'x.example'),
    );
    assert.ok(
      seqd.events.filter((_, i) => !seqd.ambiguousSeqs.includes(i)).every((e) => e.package === 'a@1.0.0'),
    );
  });

  test('import loaders are identified by their argv index, not by cwd', () => {
    const trace = [
      proc(100, 1, 10, ['node', RUNNER_IN_SANDBOX, 'config.json']),
      proc(101, 100, 11, ['node', '--v8-pool-size=1', RUNNER_IN_SANDBOX, 'load', 'config.json', '1'], {
        cwd: A,
      }),
      file(101, 11.5, `${B}/index.js`),
    ];
    const result = attributeBatch({
      trace,
      runnerPid: 100,
      packageDirs: [A, B],
      ran: [true, true],
      records: [],
      messages: [],
    });
    assert.equal(result.byPackage[0]?.length, 0);
    assert.equal(result.byPackage[1]?.length, 2);
  });

  test('loader groups: markers open windows in the group order; forged markers only push events later', () => {
    const C = '/home/maria/projects/acme-dashboard/node_modules/c';
    const mark = (pid: number, ts: number, index: number | string): TraceEvent =>
      file(pid, ts, `${LOAD_MARKER_PREFIX}${index}`);
    const trace: TraceEvent[] = [
      proc(100, 1, 10, ['node', RUNNER_IN_SANDBOX, 'config.json']),
      proc(300, 100, 11, ['node', '--v8-pool-size=1', RUNNER_IN_SANDBOX, 'load', 'cfg', '2,0,1']),
      file(300, 11.05, '/usr/local/lib/node_modules/npm/lib/run-config.json'),
      mark(300, 11.1, 2),
      file(300, 11.2, `${C}/index.js`),
      mark(300, 12, 0),
      file(300, 12.1, `${A}/index.js`),
      // a forges the marker of an earlier package (2: refused) and of a later one (1: accepted early).
      mark(300, 12.2, 2),
      mark(300, 12.3, 1),
      connect(300, 12.4, '198.18.0.10', 443),
      // b's entry is never opened (a loaded its neighbour's window away): not verified.
      file(300, 13, `${B}/lib/other.js`),
    ];
    const result = attributeBatch({
      trace,
      runnerPid: 100,
      packageDirs: [A, B, C],
      ran: [true, true, true],
      records: [],
      messages: [],
      entries: [[`${A}/index.js`], [`${B}/index.js`], [`${C}/index.js`]],
    });
    const paths = (i: number): string[] =>
      (result.byPackage[i] ?? []).map((a) => (a.event.kind === 'file' ? a.event.path : a.event.kind));
    // The loader's own start-up (before any marker) counts as its first package's, as with one loader each.
    assert.deepEqual(paths(2), [
      'process',
      '/usr/local/lib/node_modules/npm/lib/run-config.json',
      `${C}/index.js`,
    ]);
    assert.deepEqual(paths(0), [`${A}/index.js`]);
    assert.deepEqual(paths(1), ['connect', `${B}/lib/other.js`]);
    assert.ok(
      result.byPackage
        .flat()
        .every((a) => a.event.kind !== 'file' || !a.event.path.startsWith(LOAD_MARKER_PREFIX)),
    );
    assert.deepEqual(result.sharedWith[2], []);
    assert.deepEqual(result.sharedWith[0], [2]);
    assert.deepEqual(result.sharedWith[1], [2, 0]);
    assert.deepEqual([...result.unverified], [1]);
  });
});

describe('dependency order', () => {
  test('dependencies first, resolved from the install path as Node does; cycles do not hang', () => {
    const paths = [
      'node_modules/app',
      'node_modules/lib',
      'node_modules/app/node_modules/lib',
      'node_modules/util',
      'node_modules/x',
      'node_modules/y',
    ];
    const deps = [['lib', 'util'], ['util'], ['util'], [], ['y'], ['x']];
    const order = dependencyOrder(paths, deps);
    assert.deepEqual([...order].sort(), [0, 1, 2, 3, 4, 5]);
    const before = (a: number, b: number): boolean => order.indexOf(a) < order.indexOf(b);
    // app's `lib` is its nested copy (2), not the top-level one.
    assert.ok(before(2, 0) && before(3, 0) && before(3, 2) && before(3, 1));
  });
});
