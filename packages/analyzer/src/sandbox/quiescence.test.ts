import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { queuesEmpty, socketsDrained, waitOutGrace } from './quiescence.js';
import { sleep } from './sandbox-process.js';
import { describeRun, runFixture } from './test-support/fixtures.js';

const HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const row = (state: string, queues: string): string =>
  `   0: 0100007F:1F90 0100007F:D2F0 ${state} ${queues} 00:00000000 00000000  1000        0 81543 1`;

test('queuesEmpty: unread bytes, unsent bytes and waiting connections keep a namespace busy', () => {
  assert.equal(queuesEmpty('tcp', [HEADER, row('01', '00000000:00000000')].join('\n')), true);
  // A listening socket's tx is its backlog limit, its rx the connections not accepted yet.
  assert.equal(queuesEmpty('tcp', [HEADER, row('0A', '00000080:00000000')].join('\n')), true);
  assert.equal(queuesEmpty('tcp6', [HEADER, row('0A', '00000080:00000001')].join('\n')), false);
  assert.equal(queuesEmpty('tcp', [HEADER, row('01', '00000000:0000002A')].join('\n')), false);
  assert.equal(queuesEmpty('tcp', [HEADER, row('08', '00000005:00000000')].join('\n')), false);
  assert.equal(queuesEmpty('udp', [HEADER, row('07', '00000000:00000340')].join('\n')), false);
  assert.equal(queuesEmpty('udp', HEADER), true);
});

// A process in a network namespace of its own: a listener that reads nothing until told to, and a
// client that writes to it.
const HOLDER = `
const net = require('net');
const rl = require('readline').createInterface({ input: process.stdin });
const sockets = [];
const server = net.createServer({ pauseOnConnect: true }, (s) => sockets.push(s)).listen(8080, '127.0.0.1', () => {
  const client = net.connect(8080, '127.0.0.1', () => client.write('secret bytes', () => console.log('written')));
});
rl.on('line', () => { for (const s of sockets) s.resume().on('data', () => undefined); console.log('reading'); });
`;

test('socketsDrained: bytes a reader has not taken yet are seen in its network namespace, until read', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root for a network namespace');
  const child = spawn('unshare', ['--net', '--', 'sh', '-c', `ip link set lo up && exec "$0" -e "$1"`, process.execPath, HOLDER], {
    stdio: ['pipe', 'pipe', 'inherit'],
  }); // prettier-ignore
  t.after(() => child.kill('SIGKILL'));
  const lines = createInterface({ input: child.stdout });
  const next = async (): Promise<string> => ((await once(lines, 'line')) as [string])[0];
  assert.equal(await next(), 'written');
  const pid = child.pid as number;
  assert.equal(await socketsDrained(pid), false, 'the listener has not read the bytes');
  child.stdin.write('read\n');
  assert.equal(await next(), 'reading');
  // The reader's queue empties at once; the writer's until the ACK comes back (a delayed ACK on loopback).
  while (!(await socketsDrained(pid))) await sleep(20);
  assert.equal(await socketsDrained(999_999_999), false, 'an unreadable namespace is never quiet');
});

test('waitOutGrace without a way to watch the package waits out the whole grace, or the exit', async () => {
  const exited = new Promise<void>(() => undefined);
  const full = await waitOutGrace({ graceMs: 50, exited });
  assert.equal(full.ended, 'elapsed');
  assert.ok(full.ms >= 45, `${full.ms} ms`);
  assert.equal(full.left, 'the runner ran package code');
  const early = await waitOutGrace({ graceMs: 60_000, exited: Promise.resolve() });
  assert.equal(early.ended, 'exited');
  // No cgroup to read the package's processes from: never "quiet".
  const unreadable = await waitOutGrace({
    graceMs: 50,
    exited,
    quiet: {
      cgroups: { dirs: [], pidsLimited: false, details: [] },
      planned: new Set(),
      netPid: process.pid,
    },
  });
  assert.equal(unreadable.ended, 'elapsed');
  assert.equal(unreadable.left, 'the sandbox processes could not be read');
});

describe('sandbox: the grace after an install script', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  const fixture = async (postinstall: string, files: Record<string, string> = {}): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'sr-grace-'));
    dirs.push(dir);
    const manifest = { name: 'grace-probe', version: '1.0.0', scripts: { postinstall } };
    await writeFile(join(dir, 'package.json'), JSON.stringify(manifest));
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    return dir;
  };

  test('ends once the script is gone and left nothing behind', async () => {
    const run = await runFixture(await fixture('node -e "1"'), 'install', { graceMs: 60_000 });
    assert.equal(run.status, 'completed', describeRun(run));
    assert.match(run.details.join('\n'), /grace \d+ ms \(nothing of the package left\)/);
  });

  test('runs its full length while a process the script left behind is alive', async () => {
    const launch = `require('child_process').spawn('sleep', ['600'], { detached: true, stdio: 'ignore' }).unref();`;
    const run = await runFixture(await fixture('node launch.js', { 'launch.js': launch }), 'install', {
      graceMs: 1_500,
    });
    assert.equal(run.status, 'completed', describeRun(run));
    assert.match(
      run.details.join('\n'),
      /grace \d+ ms \(the full 1500 ms: 1 package process\(es\) running \(sleep\)\)/,
    );
  });

  test('an import run alone (the runner loads the package itself) always waits the full grace', async () => {
    const dir = await fixture('true', { 'index.js': 'module.exports = 1;' });
    const run = await runFixture(dir, 'import', { graceMs: 1_000 });
    assert.equal(run.status, 'completed', describeRun(run));
    assert.match(run.details.join('\n'), /grace \d+ ms \(the full 1000 ms: the runner ran package code\)/);
  });
});
