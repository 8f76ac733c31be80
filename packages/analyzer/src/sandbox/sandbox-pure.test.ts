import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import type { TraceEvent } from '@secure-registry/shared';
import { sandboxEventsOnly, sinkEvents, translatePidNamespace } from './collect-events.js';
import { browserEntry, importEntries, lifecycleScripts } from './entry-points.js';
import { createHoneytokens } from './honeytokens.js';
import { lingerOver } from './runtime/load-entries.js';

const files = (list: string[]) => (rel: string) => list.includes(rel);

describe('sandbox pure helpers', () => {
  test('a loader lingers lingerMs after loading, longer while network activity is in flight, up to its cap', () => {
    const at = (now: number, resources: string[]): boolean =>
      lingerOver({ now, startedAt: 0, finishedAt: 1_000, lingerMs: 1_000, capMs: 10_000, resources });
    assert.equal(at(1_500, []), false); // pending timers may still fire
    assert.equal(at(2_000, ['Timeout', 'PipeWrap', 'TCPServerWrap']), true); // a timer or a server: not waited for
    for (const inFlight of [
      'GetAddrInfoReqWrap',
      'TCPSocketWrap',
      'TCPConnectWrap',
      'UDPWrap',
      'QueryReqWrap',
    ])
      assert.equal(at(2_000, ['Timeout', inFlight]), false, inFlight);
    assert.equal(at(9_999, ['TCPSocketWrap']), false);
    assert.equal(at(10_000, ['TCPSocketWrap']), true); // the package's budget caps the wait
  });

  test('lifecycle scripts in npm order, implicit node-gyp rebuild only without install/preinstall', () => {
    assert.deepEqual(
      lifecycleScripts({ scripts: { postinstall: 'b', preinstall: 'a', test: 'x' } }, files([])),
      [
        { event: 'preinstall', script: 'a' },
        { event: 'postinstall', script: 'b' },
      ],
    );
    assert.deepEqual(lifecycleScripts({}, files(['binding.gyp'])), [
      { event: 'install', script: 'node-gyp rebuild' },
    ]);
    assert.deepEqual(lifecycleScripts({ scripts: { preinstall: 'a' } }, files(['binding.gyp'])), [
      { event: 'preinstall', script: 'a' },
    ]);
  });

  test("implicit node-gyp rebuild follows npm's truthiness, ignores gypfile: false (npm ci builds it)", () => {
    const gyp = [{ event: 'install', script: 'node-gyp rebuild' }];
    // npm drops non-string scripts and tests `!install && !preinstall`: "" and `true` do not count.
    assert.deepEqual(lifecycleScripts({ scripts: { install: '' } }, files(['binding.gyp'])), gyp);
    assert.deepEqual(lifecycleScripts({ scripts: { install: true } }, files(['binding.gyp'])), gyp);
    assert.deepEqual(lifecycleScripts({ scripts: 'node-gyp' }, files(['binding.gyp'])), gyp);
    // " " is truthy to npm: it runs (a no-op) and no build is added.
    assert.deepEqual(lifecycleScripts({ scripts: { install: ' ' } }, files(['binding.gyp'])), [
      { event: 'install', script: ' ' },
    ]);
    // A lockfile does not record `gypfile`, so `npm ci` builds the package anyway.
    assert.deepEqual(
      lifecycleScripts({ gypfile: false } as Record<string, unknown>, files(['binding.gyp'])),
      gyp,
    );
    assert.deepEqual(lifecycleScripts({}, files(['foo.gyp', 'src/binding.gyp'])), []);
  });

  test('import entries cover main and every exports file target, not types or patterns', () => {
    const manifest = {
      main: 'lib/index',
      exports: {
        '.': { types: './x.d.ts', import: './esm/index.mjs', require: './lib/index.js' },
        './util': './lib/util.js',
        './*': './lib/*.js',
      },
    };
    assert.deepEqual(
      importEntries(manifest, files(['lib/index.js', 'esm/index.mjs', 'lib/util.js', 'x.d.ts'])).sort(),
      ['esm/index.mjs', 'lib/index.js', 'lib/util.js'],
    );
    assert.deepEqual(importEntries({}, files(['index.js'])), ['index.js']);
  });

  test('browser entry: browser string, browser map, exports browser condition, else main', () => {
    assert.equal(browserEntry({ browser: './b.js', main: 'm.js' }, files(['b.js', 'm.js'])), 'b.js');
    assert.equal(
      browserEntry({ browser: { './m.js': './b.js' }, main: './m.js' }, files(['b.js', 'm.js'])),
      'b.js',
    );
    assert.equal(
      browserEntry({ exports: { '.': { node: './n.js', browser: './w.js' } } }, files(['w.js', 'n.js'])),
      'w.js',
    );
    assert.equal(browserEntry({ main: 'm.js' }, files(['m.js'])), 'm.js');
  });

  test('pid namespace translation keeps the host view of pids', () => {
    const line = "100 1.0 clone(child_stack=NULL, flags=SIGCHLD) = 9 /* 22770 in strace's PID NS */";
    assert.equal(translatePidNamespace(line), '100 1.0 clone(child_stack=NULL, flags=SIGCHLD) = 22770');
  });

  test('only the runner and its descendants are kept, from the runner exec on', () => {
    const ev = (seq: number, pid: number, ppid: number | undefined, argv: string[]): TraceEvent => ({
      kind: 'process',
      seq,
      ts: seq,
      pid,
      ppid,
      path: argv[0] ?? '',
      argv,
    });
    const events = [
      ev(0, 10, 1, ['bwrap']),
      ev(1, 11, 10, ['setup']),
      ev(2, 11, 10, ['runner']),
      ev(3, 12, 11, ['sh']),
      ev(4, 13, 12, ['curl']),
      ev(5, 99, 1, ['other']),
    ];
    const kept = sandboxEventsOnly(events, (e) => e.kind === 'process' && e.argv[0] === 'runner');
    assert.deepEqual(
      kept.map((e) => e.seq),
      [2, 3, 4],
    );
  });

  test('sink records become shared events; TLS without SNI is named by the DNS answer', () => {
    const events = sinkEvents([
      { t: 'dns', ts: 1, name: 'a.example', qtype: 'A', answer: '198.18.0.10', transport: 'udp' },
      { t: 'tls', ts: 2, sni: '', intercepted: false, address: '198.18.0.10', port: 443 },
      { t: 'conn', ts: 2, address: '198.18.0.10', port: 443, clientPort: 5000 },
    ]);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['dns', 'tls'],
    );
    assert.equal((events[1] as { sni: string }).sni, 'a.example');
  });

  test('honeytokens are unique per run and recorded with their files', () => {
    const a = createHoneytokens({ home: '/home/maria', projectDir: '/home/maria/p' });
    const b = createHoneytokens({ home: '/home/maria', projectDir: '/home/maria/p' });
    assert.notEqual(a.env.NPM_TOKEN, b.env.NPM_TOKEN);
    assert.match(a.env.GITHUB_TOKEN ?? '', /^ghp_[A-Za-z0-9]{36}$/);
    assert.equal(new Set(a.tokens.map((t) => t.value)).size, a.tokens.length);
    assert.ok(a.tokens.some((t) => t.path === '/home/maria/.npmrc'));
  });
});
