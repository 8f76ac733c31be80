// The Tracee parser on the real events in fixtures/tracee (see SOURCES.txt there), plus input shapes.
import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { TraceEvent, type TraceEventOf } from '@secure-registry/shared';
import {
  parseTraceeEvents,
  readTraceeJson,
  TRACEE_WORKFLOW_EVENTS,
  TraceeParseError,
} from './tracee-parser.js';

const dir = new URL('../../src/trace/fixtures/tracee/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, dir), 'utf8');
const of = <K extends TraceEvent['kind']>(events: TraceEvent[], kind: K): TraceEventOf<K>[] =>
  events.filter((e): e is TraceEventOf<K> => e.kind === kind);

describe('Tracee events', () => {
  const { events, stats, failedSeqs } = parseTraceeEvents(read('events-v0.x.jsonl'));

  test('every mapped event fits the shared schema; seqs are consecutive', () => {
    assert.ok(events.length > 10);
    for (const e of events) TraceEvent.parse(e);
    assert.deepEqual(
      events.map((e) => e.seq),
      events.map((_, i) => i),
    );
  });

  test('execve and sched_process_exec become processes with argv, host pids and parents', () => {
    const procs = of(events, 'process');
    const ls = procs.find((p) => p.path === '/usr/bin/ls'); // tracee-action capture (line 25)
    assert.deepEqual(ls?.argv, ['ls', '--color=auto', 'x']);
    assert.deepEqual([ls?.pid, ls?.ppid], [21497, 18679]);
    const umount = procs.find((p) => p.path === '/usr/bin/umount');
    assert.equal(umount?.argv[0], 'umount');
    assert.equal(umount?.pid, 6664);
    const exa = procs.filter((p) => p.path === '/usr/bin/exa');
    assert.equal(exa.length, 2); // v0.19 and v0.10 renderings of the same exec
    assert.equal(exa[0]?.ts, Number('1657295236470126167') / 1e9);
  });

  test('file opens: string and numeric flags, signature file_write', () => {
    const f = of(events, 'file');
    assert.ok(f.some((e) => e.path === '/tmp/testing.txt' && e.op === 'create' && e.pid === 2578238));
    assert.ok(f.some((e) => e.path === '/proc/meminfo' && e.op === 'read'));
    assert.ok(f.some((e) => e.path === '/etc/ld.so.cache' && e.op === 'read')); // flags 524288 = O_CLOEXEC
    assert.ok(f.some((e) => e.path === '/home/vagrant/tracee/x' && e.op === 'create' && e.pid === 90623));
  });

  test('DNS: net_packet_dns queries and responses, dns_request / dns_response', () => {
    const dns = of(events, 'dns').map((d) => `${d.name}/${d.qtype}/${d.pid}`);
    assert.ok(dns.includes('ebpf.io/A/79275')); // ping's query (line 26)
    assert.ok(dns.includes('www.zip.net/AAAA/472'));
    assert.ok(dns.includes('www.zip.net/A/472'));
  });

  test('HTTP request: method, host, path and headers (Tracee has no body)', () => {
    const [http] = of(events, 'http');
    assert.deepEqual(
      [http?.method, http?.host, http?.path, http?.tls, http?.headers['User-Agent'], http?.bodySize],
      ['GET', 'www.google.com', '/', false, 'curl/8.3.0', 0],
    );
  });

  test('unknown events and mid-connection packets are skipped', () => {
    // signatures (lines 22-24), vfs_read, read, close, clone, net_packet_udp, non-SYN tcp
    assert.equal(events.length, 18);
    assert.equal(of(events, 'connect').length, 0);
    assert.equal(stats.records, 27);
    assert.deepEqual(stats.unknown, {
      clone: 1,
      close: 1,
      vfs_read: 1,
      read: 1,
      net_packet_tcp: 1,
      net_packet_udp: 1,
      'New executable dropped': 1,
      fileless_execution: 1,
      'Anti-Debugging detected': 1,
    });
    assert.equal(stats.mapped, 27 - 9);
    assert.deepEqual(failedSeqs, []);
  });

  test('v1beta1 event (pretty-printed single object)', () => {
    const [p, ...rest] = parseTraceeEvents(read('tracee-event-v1beta1-example.json')).events;
    assert.equal(rest.length, 0);
    assert.equal(p?.kind, 'process');
    assert.deepEqual(p?.kind === 'process' ? [p.path, p.argv, p.pid, p.ppid] : [], [
      '/usr/bin/ls',
      ['ls', '-la', '/tmp'],
      12345,
      1234,
    ]);
    assert.equal(p?.ts, 1732454400 + 123456789 / 1e9);
  });

  test('security_socket_connect with tracee sockaddr strings, joined with DNS answers', () => {
    const lines = [
      { timestamp: 1, processId: 9, parentProcessId: 1, eventName: 'net_packet_dns_response', args: [
        { name: 'dns_response', value: [{ query_data: { query: 'exfil.test', query_type: 'A' }, dns_answer: [{ answer_type: 'A', answer: '10.9.9.9' }] }] },
      ] },
      { timestamp: 2, processId: 9, parentProcessId: 1, eventName: 'security_socket_connect', args: [
        { name: 'sockfd', value: 3 },
        { name: 'remote_addr', value: { sa_family: 'AF_INET', sin_addr: '10.9.9.9', sin_port: '443' } },
      ] },
      { timestamp: 3, processId: 9, eventName: 'security_socket_connect', args: [
        { name: 'remote_addr', value: { sa_family: 'AF_UNIX', sun_path: '/var/run/docker.sock' } },
      ] },
      { timestamp: 4, processId: 9, eventName: 'net_packet_tcp', args: [
        { name: 'dst', value: '169.254.169.254' }, { name: 'dst_port', value: 80 },
        { name: 'proto_tcp', value: { SYN: 1, ACK: 0 } },
      ] },
    ]; // prettier-ignore
    const text = lines.map((l) => JSON.stringify(l)).join('\n');
    const c = of(parseTraceeEvents(text).events, 'connect').map((e) => [
      e.protocol,
      e.address,
      e.port,
      e.host,
    ]);
    assert.deepEqual(c, [
      ['tcp', '10.9.9.9', 443, 'exfil.test'],
      ['unix', '/var/run/docker.sock', undefined, undefined],
      ['tcp', '169.254.169.254', 80, undefined],
    ]);
    // a JSON array works too
    assert.equal(readTraceeJson(JSON.stringify(lines)).length, 4);
    assert.deepEqual(parseTraceeEvents('').events, []);
  });

  // Lines in the v0.24.1 field layout (pkg/events/core.go) for events no fixture has a capture of.
  const line = (eventName: string, args: [string, unknown][], extra: object = {}): string =>
    JSON.stringify({
      timestamp: 1700000000000000000,
      processId: 7,
      parentProcessId: 1,
      hostProcessId: 4242,
      hostParentProcessId: 4200,
      eventName,
      returnValue: 0,
      args: args.map(([name, value]) => ({ name, value })),
      ...extra,
    });

  test('security_socket_connect type: int32 raw or parse-arguments string', () => {
    const addr = (port: string) => [
      'remote_addr',
      { sa_family: 'AF_INET6', sin6_addr: 'fd00::1', sin6_port: port },
    ];
    const text = [
      line('security_socket_connect', [['sockfd', 5], ['type', 2 | 0o4000], addr('5353')] as [string, unknown][]),
      line('security_socket_connect', [['type', 'SOCK_STREAM|SOCK_CLOEXEC'], addr('53')] as [string, unknown][]),
      line('security_socket_connect', [['type', 1], addr('53')] as [string, unknown][], { returnValue: -111 }),
    ].join('\n'); // prettier-ignore
    const { events, failedSeqs } = parseTraceeEvents(text, { seqStart: 10 });
    assert.deepEqual(
      of(events, 'connect').map((e) => [e.protocol, e.address, e.port, e.pid, e.ppid]),
      [
        ['udp', 'fd00::1', 5353, 4242, 4200],
        ['tcp', 'fd00::1', 53, 4242, 4200],
        ['tcp', 'fd00::1', 53, 4242, 4200],
      ],
    );
    assert.deepEqual(failedSeqs, [12]); // ECONNREFUSED: still evidence, marked failed
  });

  test('vfs_write, rename, unlink: files; writes to pipes and sockets are not files', () => {
    const text = [
      line('vfs_write', [['pathname', '/home/runner/.npmrc'], ['dev', 2049], ['inode', 77], ['count', 12], ['pos', 0]]),
      line('vfs_write', [['pathname', 'pipe:[31337]'], ['count', 1]]),
      line('vfs_write', [['pathname', 'socket:[4040]'], ['count', 1]]),
      line('security_inode_rename', [['old_path', '/tmp/x.part'], ['new_path', '/usr/local/bin/node']]),
      line('security_inode_unlink', [['pathname', '/tmp/stage2.js'], ['inode', 9], ['dev', 1], ['ctime', 1]]),
      line('security_file_open', [['pathname', '/etc/passwd'], ['flags', 'O_WRONLY|O_TRUNC'], ['syscall_pathname', '/etc/passwd']]),
      line('security_file_open', [['pathname', '/root/.ssh/id_rsa'], ['flags', 0o100000]]),
    ].join('\n'); // prettier-ignore
    const { events, stats } = parseTraceeEvents(text);
    assert.deepEqual(
      of(events, 'file').map((e) => [e.op, e.path, e.target, e.truncate]),
      [
        ['write', '/home/runner/.npmrc', undefined, undefined],
        ['rename', '/tmp/x.part', '/usr/local/bin/node', undefined],
        ['delete', '/tmp/stage2.js', undefined, undefined],
        ['write', '/etc/passwd', undefined, true],
        ['read', '/root/.ssh/id_rsa', undefined, undefined],
      ],
    );
    assert.deepEqual(stats.unknown, { vfs_write: 2 });
  });

  test('every event the workflow asks Tracee for maps to the shared vocabulary', () => {
    const samples: Record<(typeof TRACEE_WORKFLOW_EVENTS)[number], [string, unknown][]> = {
      sched_process_exec: [['cmdpath', '/usr/bin/node'], ['pathname', '/usr/bin/node'], ['argv', ['node', 'x.js']]],
      sched_process_exit: [['exit_code', 3], ['signal_code', 0], ['process_group_exit', true]],
      security_file_open: [['pathname', '/etc/hosts'], ['flags', 0]],
      vfs_write: [['pathname', '/tmp/out'], ['count', 1]],
      magic_write: [['pathname', '/tmp/elf'], ['bytes', 'f0VMRg==']],
      security_inode_rename: [['old_path', '/tmp/a'], ['new_path', '/tmp/b']],
      security_inode_unlink: [['pathname', '/tmp/a']],
      chmod_common: [['pathname', '/tmp/a'], ['mode', 'S_IXUSR']],
      security_socket_connect: [['sockfd', 3], ['type', 1], ['remote_addr', { sa_family: 'AF_INET', sin_addr: '127.0.0.1', sin_port: '80' }]],
      net_packet_dns: [['dst', '127.0.0.53'], ['dst_port', 53], ['proto_dns', { questions: [{ name: 'beacon.example', type: 'TXT', class: 'IN' }] }]],
      net_packet_http_request: [['metadata', {}], ['http_request', { method: 'POST', protocol: 'HTTP/1.1', host: 'sink.test', uri_path: '/c', headers: { 'Content-Type': ['text/plain'] }, content_length: 42 }]],
    }; // prettier-ignore
    const text = TRACEE_WORKFLOW_EVENTS.map((n) => line(n, samples[n])).join('\n');
    const { events, stats } = parseTraceeEvents(text);
    assert.deepEqual(stats.unknown, {});
    assert.equal(stats.mapped, TRACEE_WORKFLOW_EVENTS.length);
    for (const e of events) TraceEvent.parse(e);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['process', 'exit', 'file', 'file', 'file', 'file', 'file', 'file', 'connect', 'dns', 'http'],
    );
    const http = of(events, 'http')[0];
    assert.deepEqual([http?.method, http?.host, http?.path, http?.bodySize], ['POST', 'sink.test', '/c', 42]);
  });

  test('malformed input fails closed with the line number', () => {
    const good = line('sched_process_exit', [['exit_code', 0]]);
    const cases: [string, RegExp][] = [
      [`${good}\nnot json`, /line 2: not JSON/],
      [`${good}\n{"broken":`, /line 2: not JSON/],
      [`${good}\n\n[1,2]`, /line 3: not a JSON object/],
      ['[{"eventName":"x","processId":1}, 3]', /array element 1/],
      [`${good}\n{"foo":1}`, /record 2 is not a Tracee event/],
      ['{"eventName":"execve"}', /record 1 is not a Tracee event/],
    ];
    for (const [text, re] of cases) {
      assert.throws(
        () => parseTraceeEvents(text),
        (err: unknown) => err instanceof TraceeParseError && re.test(err.message),
      );
    }
    // blank lines and a trailing newline are not malformed
    assert.equal(parseTraceeEvents(`\n${good}\n\n`).events.length, 1);
  });
});
