// The Tracee parser on the real events in fixtures/tracee (see SOURCES.txt there), plus input shapes.
import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { TraceEvent, type TraceEventOf } from '@secure-registry/shared';
import { parseTraceeEvents, readTraceeJson } from './tracee-parser.js';

const dir = new URL('../../src/trace/fixtures/tracee/', import.meta.url);
const read = (name: string): string => readFileSync(new URL(name, dir), 'utf8');
const of = <K extends TraceEvent['kind']>(events: TraceEvent[], kind: K): TraceEventOf<K>[] =>
  events.filter((e): e is TraceEventOf<K> => e.kind === kind);

describe('Tracee events', () => {
  const events = parseTraceeEvents(read('events-v0.x.jsonl'));

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
  });

  test('v1beta1 event (pretty-printed single object)', () => {
    const [p, ...rest] = parseTraceeEvents(read('tracee-event-v1beta1-example.json'));
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
    const text = `${lines.map((l) => JSON.stringify(l)).join('\n')}\nnot json\n{"broken":`;
    const c = of(parseTraceeEvents(text), 'connect').map((e) => [e.protocol, e.address, e.port, e.host]);
    assert.deepEqual(c, [
      ['tcp', '10.9.9.9', 443, 'exfil.test'],
      ['unix', '/var/run/docker.sock', undefined, undefined],
      ['tcp', '169.254.169.254', 80, undefined],
    ]);
    // a JSON array works too
    assert.equal(readTraceeJson(JSON.stringify(lines)).length, 4);
    assert.deepEqual(parseTraceeEvents(''), []);
  });
});
