// The strace parser on every real sample in fixtures/strace (copied from the shared fixtures).
import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { TraceEvent, type TraceEventOf } from '@secure-registry/shared';
import {
  parseStrace,
  parseStraceDetailed,
  parseStraceFiles,
  pidFromStraceFileName,
} from './strace-parser.js';

const dir = new URL('../../src/trace/fixtures/strace/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, dir), 'utf8');

const processes = (events: TraceEvent[]): TraceEventOf<'process'>[] =>
  events.filter((e): e is TraceEventOf<'process'> => e.kind === 'process');
const files = (events: TraceEvent[]): TraceEventOf<'file'>[] =>
  events.filter((e): e is TraceEventOf<'file'> => e.kind === 'file');
const connects = (events: TraceEvent[]): TraceEventOf<'connect'>[] =>
  events.filter((e): e is TraceEventOf<'connect'> => e.kind === 'connect');

/** The probe (probe.js.txt) in all three Linux captures does the same things; check them all alike. */
function assertProbe(events: TraceEvent[], pids: { node: number; sh: number; id: number }): void {
  for (const e of events) TraceEvent.parse(e); // every event fits the shared schema
  const procs = processes(events);
  assert.deepEqual(
    procs.map((p) => [p.pid, p.ppid, p.argv]),
    [
      [pids.node, undefined, ['node', '/tmp/stcap/probe.js']],
      [pids.sh, pids.node, ['/bin/sh', '-c', 'id -u > /dev/null']],
      [pids.id, pids.sh, ['id', '-u']],
    ],
  );
  const f = files(events);
  assert.ok(f.some((e) => e.op === 'create' && e.path === '/tmp/stcap/out.txt' && e.pid === pids.node));
  assert.ok(f.some((e) => e.op === 'read' && e.path === '/etc/hostname' && e.pid === pids.node));
  assert.ok(f.some((e) => e.op === 'delete' && e.path === '/tmp/stcap/out.txt'));
  assert.ok(
    f.some((e) => e.op === 'read' && e.path === '/usr/lib/locale/C.utf8/LC_CTYPE' && e.pid === pids.id),
  );
  assert.deepEqual(
    connects(events).map((c) => [c.protocol, c.address, c.port, c.pid]),
    [
      ['tcp', '127.0.0.1', 9, pids.node],
      ['udp', '127.0.0.1', 53, pids.node],
    ],
  );
  // "abc" sent to port 53 is not a DNS query: no dns event is invented.
  assert.equal(events.filter((e) => e.kind === 'dns').length, 0);
  // Exits of processes, not of Node's worker threads.
  const exits = events.filter((e) => e.kind === 'exit').map((e) => e.pid);
  assert.deepEqual(exits, [pids.id, pids.sh, pids.node]);
  // seq is unique and increasing.
  assert.deepEqual(
    events.map((e) => e.seq),
    events.map((_, i) => i),
  );
}

describe('strace fixtures', () => {
  test('strace -f -tt -yy on stderr: [pid N] prefixes, attach messages inside lines, unfinished/resumed', () => {
    const r = parseStraceDetailed(read('strace-f-tt-yy.stderr.txt'));
    assert.equal(r.stats.skipped, 0);
    assert.equal(r.stats.unmatchedResumes, 0);
    assertProbe(r.events, { node: 7901, sh: 7908, id: 7909 });
    // -tt: seconds since midnight.
    assert.equal(r.events[0]?.ts, 18 * 3600 + 50 * 60 + 2.751466);
    // failed opens are kept and flagged
    const pkgJson = files(r.events).find((e) => e.path === '/tmp/stcap/package.json');
    assert.ok(pkgJson && r.failedSeqs.includes(pkgJson.seq));
    // the non-blocking connect (EINPROGRESS) is not a failure
    const tcp = connects(r.events)[0];
    assert.ok(tcp && !r.failedSeqs.includes(tcp.seq));
  });

  test('strace --seccomp-bpf -f -tt -yy -o: bare pid column', () => {
    const r = parseStraceDetailed(read('strace-seccomp-f-tt-yy.o.txt'));
    assert.equal(r.stats.skipped, 0);
    assertProbe(r.events, { node: 7915, sh: 7922, id: 7923 });
    assert.equal(processes(r.events)[0]?.cwd, undefined); // only known after the first AT_FDCWD decoration
    assert.equal(processes(r.events)[1]?.cwd, '/tmp/stcap'); // inherited by the forked child
  });

  test('strace -ff -ttt -T -y: one file per pid, merged by timestamp', () => {
    const names = readdirSync(new URL('ff-ttt-T-y/', dir));
    assert.equal(names.length, 9);
    const set = names.map((n) => ({
      pid: pidFromStraceFileName(n) as number,
      text: read(`ff-ttt-T-y/${n}`),
    }));
    const r = parseStraceFiles(set);
    assert.equal(r.stats.skipped, 0);
    assertProbe(r.events, { node: 7928, sh: 7935, id: 7936 });
    assert.equal(r.events[0]?.ts, 1795546202.977105);
    // a single -ff file alone, with its pid from the file name
    const alone = parseStrace(read('ff-ttt-T-y/ff.7936'), { pidFromFileName: 7936 });
    assert.deepEqual(processes(alone)[0]?.argv, ['id', '-u']);
    assert.ok(alone.every((e) => e.pid === 7936));
  });

  test('malicious-packages/core sample: old strace, open(), PATH search execve failures, npm lifecycle', () => {
    const r = parseStraceDetailed(read('malicious-packages-core_strace_log.example'));
    assert.equal(r.stats.skipped, 0);
    for (const e of r.events) TraceEvent.parse(e);
    const argvs = processes(r.events).map((p) => p.argv);
    assert.deepEqual(argvs[0], [
      'npm',
      'run',
      '--prefix',
      '/opt/checker/node_modules/test_package',
      'postuninstall',
    ]);
    assert.ok(argvs.some((a) => a[0] === 'curl' && a[2] === 'https://example.com/postuninstall'));
    assert.ok(argvs.some((a) => a.join(' ') === 'node scripts/postuninstall.js'));
    const sh = processes(r.events).find((p) => p.argv[0] === 'sh');
    assert.match(sh?.argv[2] ?? '', /curl -s "https:\/\/example\.com\/postuninstall" >> \/dev\/null/);
    // PATH search: failed execve attempts are exec file events flagged failed, not processes
    const attempts = files(r.events).filter((e) => e.op === 'exec');
    assert.ok(attempts.some((e) => e.path === '/usr/local/sbin/node'));
    assert.ok(attempts.every((e) => r.failedSeqs.includes(e.seq)));
    const f = files(r.events);
    assert.ok(
      f.some(
        (e) =>
          e.op === 'rename' &&
          e.path === '/root/.config/configstore/update-notifier-npm.json.826315028' &&
          e.target === '/root/.config/configstore/update-notifier-npm.json',
      ),
    );
    assert.ok(f.some((e) => e.op === 'delete' && e.path === '/tmp/postuninstall__script' && e.pid === 143));
    assert.ok(f.some((e) => e.op === 'delete' && e.path === '/tmp/postuninstall' && e.pid === 157)); // unlinkat
    assert.ok(f.some((e) => e.op === 'create' && e.path === '/tmp/postuninstall' && e.pid === 156));
  });

  test('gVisor runsc --strace sample (ossf/package-analysis): exit lines of file and connect calls', () => {
    const r = parseStraceDetailed(read('gvisor-runsc-strace_ossf-package-analysis.txt'));
    assert.equal(r.stats.format, 'gvisor');
    assert.equal(r.stats.skipped, 0);
    for (const e of r.events) TraceEvent.parse(e);
    const f = files(r.events);
    // relative path against the dirfd
    const gitConfig = f.find((e) => e.path === '/app/.git/config');
    assert.ok(
      gitConfig && gitConfig.op === 'read' && gitConfig.pid === 18 && r.failedSeqs.includes(gitConfig.seq),
    );
    assert.ok(f.some((e) => e.op === 'delete' && e.path === '/tmp/pip-unpack-7xfj8327/temps-0.3.0.tar.gz'));
    assert.ok(f.some((e) => e.op === 'create' && e.path === '/tmp/abctest' && e.pid === 2));
    assert.ok(f.some((e) => e.op === 'create' && e.path === '/app/foobar'));
    // the entry (E) line of creat does not produce a second event
    assert.equal(f.filter((e) => e.path === '/tmp/abctest').length, 1);
    assert.deepEqual(
      connects(r.events).map((c) => [c.protocol, c.address, c.port, c.pid]),
      [
        ['unix', '/var/run/nscd/socket', undefined, 2],
        ['tcp', '104.16.19.35', 443, 19],
        ['udp', '8.8.8.8', 53, 15],
        ['tcp', '2a04:4e42:400::319', 443, 2],
      ],
    );
  });
});
