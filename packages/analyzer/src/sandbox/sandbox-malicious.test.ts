import { strict as assert } from 'node:assert';
import { after, describe, test } from 'node:test';
import { join } from 'node:path';
import { describeRun, MALICIOUS, ofKind, runFixture, timings, token } from './test-support/fixtures.js';

describe('sandbox: malicious fixtures produce their evidence', { concurrency: 3 }, () => {
  after(() => {
    for (const t of timings)
      process.stdout.write(`# sandbox timing ${t.fixture} ${t.phase}: ${t.ms} ms (${t.status})\n`);
  });

  test('exfil-https: env honeytokens POSTed over intercepted HTTPS to exfil.example', async () => {
    const run = await runFixture(join(MALICIOUS, 'exfil-https'), 'install');
    assert.equal(run.status, 'completed', describeRun(run));
    const npmToken = token(run, 'env:NPM_TOKEN');
    const post = ofKind(run, 'http').find((e) => e.host === 'exfil.example' && e.method === 'POST');
    assert.ok(post, describeRun(run));
    if (!post) return;
    assert.equal(post.tls, true);
    assert.ok(post.body.includes(npmToken), 'the NPM_TOKEN honeytoken is in the captured body');
    assert.ok(ofKind(run, 'tls').some((e) => e.sni === 'exfil.example' && e.intercepted));
    assert.ok(ofKind(run, 'dns').some((e) => e.name === 'exfil.example'));
    const connect = ofKind(run, 'connect').find((e) => e.protocol === 'tcp' && e.port === 443);
    assert.equal(connect?.host, 'exfil.example');
    assert.ok(ofKind(run, 'process').some((e) => e.argv.join(' ') === 'sh -c node telemetry.js'));
    assert.ok(run.events.every((e) => e.package === 'fixture-exfil-https@1.0.3'));
  });

  test('honeypot-aware: the sandbox passes its checks (processes, PID 1, shell, uptime), so it steals', async () => {
    const run = await runFixture(join(MALICIOUS, 'honeypot-aware'), 'install');
    assert.equal(run.status, 'completed', describeRun(run));
    const post = ofKind(run, 'http').find(
      (e) => e.host === 'metrics.honeypot-aware.test' && e.method === 'POST',
    );
    assert.ok(post, `the fixture saw a sandbox and kept quiet: ${describeRun(run)}`);
    assert.ok(post.body.includes(token(run, 'file:npmrc')), 'the ~/.npmrc honeytoken is in the body');
    assert.ok(post.body.includes(token(run, 'env:GITHUB_TOKEN')));
  });

  test('container-check (benign look-alike): reads /proc/1 and cgroups at import, nothing else', async () => {
    const run = await runFixture(join(MALICIOUS, 'benign', 'container-check'), 'import');
    assert.equal(run.status, 'completed', describeRun(run));
    // The runner (playing npm) is the only process; no name is looked up, nothing connects.
    assert.deepEqual(
      ofKind(run, 'process').map((e) => e.argv[1]),
      ['/usr/local/lib/node_modules/npm/bin/npm-cli.js'],
      describeRun(run),
    );
    assert.deepEqual(
      run.events.filter((e) => ['http', 'dns', 'connect'].includes(e.kind)),
      [],
      describeRun(run),
    );
  });

  test('dns-tunnel: hex labels under tunnel.test reach the DNS sink', async () => {
    const run = await runFixture(join(MALICIOUS, 'dns-tunnel'), 'install');
    assert.equal(run.status, 'completed', describeRun(run));
    const tunnel = ofKind(run, 'dns').filter((e) =>
      /^[0-9a-f]{16,63}\.\d+\.s7f3\.tunnel\.test$/.test(e.name),
    );
    assert.ok(tunnel.length >= 2, describeRun(run));
    const decoded = [...new Set(tunnel.map((e) => e.name))]
      .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]))
      .map((n) => Buffer.from(n.split('.')[0] ?? '', 'hex').toString())
      .join('');
    assert.ok(decoded.startsWith('maria-laptop|maria|/home/maria/projects/'), decoded);
  });

  test('reverse-shell: bash -i connects to 198.51.100.7:4444 and its prompt lands in the TCP sink', async () => {
    const run = await runFixture(join(MALICIOUS, 'reverse-shell'), 'install');
    assert.equal(run.status, 'completed', describeRun(run));
    assert.ok(
      ofKind(run, 'connect').some(
        (e) => e.protocol === 'tcp' && e.address === '198.51.100.7' && e.port === 4444,
      ),
      describeRun(run),
    );
    assert.ok(ofKind(run, 'process').some((e) => e.argv[0] === 'bash' && e.argv[1] === '-i'));
    const data = ofKind(run, 'tcp-data').find((e) => e.address === '198.51.100.7' && e.port === 4444);
    assert.ok(data?.data.includes('maria@maria-laptop'), describeRun(run));
  });

  test('curl-pipe-sh: GET http://dropper.invalid/x.sh piped into sh', async () => {
    const run = await runFixture(join(MALICIOUS, 'curl-pipe-sh'), 'install');
    assert.equal(run.status, 'completed', describeRun(run));
    assert.ok(
      ofKind(run, 'http').some((e) => e.host === 'dropper.invalid' && e.path === '/x.sh' && !e.tls),
      describeRun(run),
    );
    const procs = ofKind(run, 'process');
    assert.ok(procs.some((e) => e.argv[0] === 'curl'));
    assert.ok(procs.some((e) => e.argv.length === 1 && e.argv[0] === 'sh'));
  });

  test('credential-wallet-theft: reads credentials and wallets, the POST carries file honeytokens', async () => {
    const run = await runFixture(join(MALICIOUS, 'credential-wallet-theft'), 'install');
    assert.equal(run.status, 'completed', describeRun(run));
    const reads = new Set(
      ofKind(run, 'file')
        .filter((e) => e.op === 'read')
        .map((e) => e.path),
    );
    for (const rel of [
      '.ssh/id_rsa',
      '.aws/credentials',
      '.npmrc',
      '.config/gh/hosts.yml',
      '.git-credentials',
      '.config/solana/id.json',
      '.electrum/wallets/default_wallet',
    ]) {
      assert.ok(reads.has(`${run.home}/${rel}`), `read of ~/${rel}`);
    }
    const post = ofKind(run, 'http').find((e) => e.host === 'collector.example' && e.method === 'POST');
    assert.ok(post, describeRun(run));
    const body = Buffer.from(post?.body ?? '', 'base64').toString();
    assert.ok(body.includes(token(run, 'file:npmrc')));
    assert.ok(body.includes(token(run, 'file:ssh-private-key')));
    assert.ok(body.includes(token(run, 'file:ethereum-keystore')));
  });

  test('persistence: appends to ~/.bashrc and ~/.zshrc and calls crontab', async () => {
    const run = await runFixture(join(MALICIOUS, 'persistence'), 'install');
    assert.equal(run.status, 'completed', describeRun(run));
    const writes = ofKind(run, 'file').filter((e) => e.op === 'write' || e.op === 'create');
    assert.ok(
      writes.some((e) => e.path === `${run.home}/.bashrc`),
      describeRun(run),
    );
    assert.ok(writes.some((e) => e.path === `${run.home}/.zshrc`));
    assert.ok(ofKind(run, 'decoy').some((e) => e.tool === 'crontab' && e.argv.includes('-')));
  });

  test('workflow-injection: writes .github/workflows/*.yml in INIT_CWD', async () => {
    const run = await runFixture(join(MALICIOUS, 'workflow-injection'), 'install');
    assert.equal(run.status, 'completed', describeRun(run));
    const target = `${run.projectDir}/.github/workflows/shai-hulud-workflow.yml`;
    assert.ok(
      ofKind(run, 'file').some((e) => (e.op === 'write' || e.op === 'create') && e.path === target),
      describeRun(run),
    );
  });

  test('detached-delayed: the beacon fires after the install script exited and is captured', async () => {
    // Grace a little above the default: under a loaded machine the detached child starts late.
    const run = await runFixture(join(MALICIOUS, 'detached-delayed'), 'install', { graceMs: 4_000 });
    assert.equal(run.status, 'completed', describeRun(run));
    const launcher = ofKind(run, 'process').find((e) => e.argv.join(' ') === 'node launch.js');
    const launcherExit = ofKind(run, 'exit').find((e) => e.pid === launcher?.pid);
    const beacon = ofKind(run, 'http').find((e) => e.host === 'late.invalid');
    assert.ok(launcherExit && beacon, describeRun(run));
    assert.ok(beacon.ts > launcherExit.ts + 1, 'the request came well after the launcher exited');
    assert.ok(beacon.path.includes(token(run, 'env:NPM_TOKEN')));
  });

  test('import-env-dump: require() posts process.env with honeytokens', async () => {
    const run = await runFixture(join(MALICIOUS, 'import-env-dump'), 'import');
    assert.equal(run.status, 'completed', describeRun(run));
    const post = ofKind(run, 'http').find((e) => e.host === 'env-dump.example');
    assert.ok(post?.body.includes(token(run, 'env:GITHUB_TOKEN')), describeRun(run));
    assert.equal(post?.tls, true);
  });

  test('browser-hook: wraps fetch and window.ethereum.request only in the browser phase', async () => {
    const run = await runFixture(join(MALICIOUS, 'browser-hook'), 'browser');
    assert.equal(run.status, 'completed', describeRun(run));
    const browser = ofKind(run, 'browser');
    assert.ok(
      browser.some((e) => e.api === 'fetch' && e.action === 'wrapped'),
      describeRun(run),
    );
    assert.ok(browser.some((e) => e.api === 'ethereum' && e.action === 'wrapped'));
    const tx = browser.find((e) => e.api === 'ethereum' && e.action === 'called');
    assert.ok(
      tx?.detail.includes('0xfc4a4858bafef54d1b1d7697bfb5c52f4c166976'),
      'the recipient was rewritten',
    );
    const nodeRun = await runFixture(join(MALICIOUS, 'browser-hook'), 'import', { graceMs: 500 });
    assert.equal(nodeRun.status, 'completed');
    assert.deepEqual(ofKind(nodeRun, 'browser'), []);
    assert.deepEqual([...ofKind(nodeRun, 'http'), ...ofKind(nodeRun, 'dns')], []);
  });

  test('ai-cli-abuse: claude/gemini/q with permission bypasses and gh auth token', async () => {
    const run = await runFixture(join(MALICIOUS, 'ai-cli-abuse'), 'install');
    assert.equal(run.status, 'completed', describeRun(run));
    const decoys = ofKind(run, 'decoy');
    assert.ok(
      decoys.some((e) => e.tool === 'claude' && e.argv.includes('--dangerously-skip-permissions')),
      describeRun(run),
    );
    assert.ok(decoys.some((e) => e.tool === 'gemini' && e.argv.includes('--yolo')));
    assert.ok(decoys.some((e) => e.tool === 'q' && e.argv.includes('--trust-all-tools')));
    assert.ok(decoys.some((e) => e.tool === 'gh' && e.argv.join(' ') === 'auth token'));
    assert.ok(ofKind(run, 'process').some((e) => e.path === '/usr/local/bin/claude'));
  });

  test('metadata-probe: 169.254.169.254 lands in the HTTP sink', async () => {
    const run = await runFixture(join(MALICIOUS, 'metadata-probe'), 'install');
    assert.equal(run.status, 'completed', describeRun(run));
    assert.ok(
      ofKind(run, 'http').some(
        (e) => e.host === '169.254.169.254' && e.path.startsWith('/latest/meta-data/iam'),
      ),
      describeRun(run),
    );
    assert.ok(ofKind(run, 'connect').some((e) => e.address === '169.254.169.254' && e.port === 80));
  });
});
