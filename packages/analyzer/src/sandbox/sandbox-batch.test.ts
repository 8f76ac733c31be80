import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { TraceEvent } from '@secure-registry/shared';
import type { BatchPackage, BatchPackageRun, BatchRun } from './batch-types.js';
import { runBatch } from './run-batch.js';
import { BENIGN, MALICIOUS } from './test-support/fixtures.js';

const fixture = (dir: string): BatchPackage => {
  const m = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; version: string };
  return { name: m.name, version: m.version, dir };
};
const pkg = (run: BatchRun, name: string): BatchPackageRun => {
  const found = run.packages.find((p) => p.name === name);
  assert.ok(found, `${name} in the batch`);
  return found;
};
const own = <K extends TraceEvent['kind']>(p: BatchPackageRun, kind: K): Extract<TraceEvent, { kind: K }>[] =>
  p.events.filter((e): e is Extract<TraceEvent, { kind: K }> => e.kind === kind && e.package === p.id);
const token = (run: BatchRun, name: string): string =>
  run.honeytokens.find((t) => t.name === name)?.value ?? '';
const describeRun = (run: BatchRun): string =>
  JSON.stringify({
    status: run.status,
    error: run.error,
    details: run.details,
    packages: run.packages.map((p) => [p.id, p.status, p.error, p.events.length, p.ambiguousSeqs.length]),
  }).slice(0, 4000);
const EGRESS = new Set(['dns', 'http', 'tls', 'tcp-data', 'decoy']);

describe('sandbox batch: many packages in one sandbox', () => {
  test('install: every malicious package owns its evidence, its benign neighbours own none', async () => {
    const names = [
      'exfil-https',
      'dns-tunnel',
      'reverse-shell',
      'curl-pipe-sh',
      'credential-wallet-theft',
    ].concat(['persistence', 'workflow-injection', 'detached-delayed', 'ai-cli-abuse', 'metadata-probe']);
    const benign = ['banner-postinstall', 'hook-installer', 'platform-check'].map((b) =>
      fixture(join(BENIGN, b)),
    );
    // Benign packages interleaved between the malicious ones.
    const packages: BatchPackage[] = [];
    names.forEach((n, i) => {
      packages.push(fixture(join(MALICIOUS, n)));
      const b = benign[i % 3];
      if (i < 3 && b) packages.push(b);
    });
    const run = await runBatch({ phase: 'install', packages, timeoutMs: 15_000, graceMs: 4_000 });
    assert.equal(run.status, 'completed', describeRun(run));
    for (const p of run.packages) assert.equal(p.status, 'completed', `${p.id}: ${p.error}`);
    const npmToken = token(run, 'env:NPM_TOKEN');

    const exfil = pkg(run, 'fixture-exfil-https');
    assert.ok(
      own(exfil, 'http').some((e) => e.host === 'exfil.example' && e.body.includes(npmToken)),
      describeRun(run),
    );
    const tunnel = own(pkg(run, 'fixture-dns-tunnel'), 'dns').filter((e) =>
      e.name.endsWith('.s7f3.tunnel.test'),
    );
    assert.ok(tunnel.length >= 2);
    const shell = pkg(run, 'fixture-reverse-shell');
    assert.ok(
      own(shell, 'tcp-data').some(
        (e) => e.address === '198.51.100.7' && e.data.includes('maria@maria-laptop'),
      ),
    );
    assert.ok(own(pkg(run, 'fixture-curl-pipe-sh'), 'http').some((e) => e.host === 'dropper.invalid'));
    const theft = pkg(run, 'fixture-credential-wallet-theft');
    assert.ok(own(theft, 'file').some((e) => e.op === 'read' && e.path === `${run.home}/.ssh/id_rsa`));
    assert.ok(own(theft, 'http').some((e) => e.host === 'collector.example'));
    const persistence = pkg(run, 'fixture-persistence');
    assert.ok(own(persistence, 'file').some((e) => e.op !== 'read' && e.path === `${run.home}/.bashrc`));
    assert.ok(own(persistence, 'decoy').some((e) => e.tool === 'crontab'));
    const workflow = `${run.projectDir}/.github/workflows/shai-hulud-workflow.yml`;
    assert.ok(
      own(pkg(run, 'fixture-workflow-injection'), 'file').some((e) => e.path === workflow && e.op !== 'read'),
    );
    const ai = own(pkg(run, 'fixture-ai-cli-abuse'), 'decoy');
    assert.ok(ai.some((e) => e.tool === 'claude') && ai.some((e) => e.tool === 'gh'));
    assert.ok(own(pkg(run, 'fixture-metadata-probe'), 'http').some((e) => e.host === '169.254.169.254'));
    // The detached child fires after its launcher exited and after later packages started: still its own.
    const delayed = pkg(run, 'fixture-detached-delayed');
    const beacon = own(delayed, 'http').find((e) => e.host === 'late.invalid');
    assert.ok(beacon && beacon.path.includes(npmToken), describeRun(run));
    const launcher = own(delayed, 'process').find((e) => e.argv.join(' ') === 'node launch.js');
    const launcherExit = own(delayed, 'exit').find((e) => e.pid === launcher?.pid);
    assert.ok(launcherExit && beacon.ts > launcherExit.ts + 1);
    assert.ok(
      own(delayed, 'process').some((e) => e.pid === beacon.pid),
      'the beacon came from a traced descendant',
    );

    for (const b of benign) {
      const p = pkg(run, b.name);
      assert.ok(p.ran && p.events.length > 0, `${p.id} ran`);
      assert.deepEqual(
        p.events.filter((e) => EGRESS.has(e.kind)),
        [],
        `${p.id} owns no egress`,
      );
      assert.ok(!p.events.some((e) => e.kind === 'file' && e.path.startsWith(`${run.home}/.ssh`)), p.id);
      assert.ok(
        p.events.every((e) => e.package === p.id),
        `${p.id}: nothing ambiguous`,
      );
    }
    // Nothing of one package shows up as another's.
    for (const p of run.packages)
      assert.ok(p.events.every((e) => e.package === undefined || e.package === p.id));
    assert.ok(
      run.details.some((d) => /by socket owner [1-9]/.test(d)),
      run.details.join('\n'),
    );
  });

  const importPackages = (): BatchPackage[] => [
    fixture(join(BENIGN, 'banner-postinstall')),
    fixture(join(MALICIOUS, 'import-env-dump')),
    fixture(join(BENIGN, 'platform-check')),
    fixture(join(MALICIOUS, 'browser-hook')),
  ];

  test('import, shared loader: the env dump lands on the dump or on a package loaded after it in its loader', async () => {
    const run = await runBatch({
      phase: 'import',
      packages: importPackages(),
      timeoutMs: 15_000,
      graceMs: 1_000,
    });
    assert.equal(run.status, 'completed', describeRun(run));
    const ids = run.packages.map((p) => p.id);
    const dumpId = 'fixture-import-env-dump@4.2.0';
    for (const p of run.packages) {
      assert.equal(p.status, 'completed', p.id);
      assert.equal(p.needsIsolation, false, `${p.id} was seen loading: ${p.details.join('; ')}`);
      assert.ok(
        p.events.some((e) => e.kind === 'file' && e.path.startsWith(p.packageDir) && e.package === p.id),
        `${p.id} read its own files in its window`,
      );
      // One loader, in input order (no dependencies between them): everything before it is shared.
      assert.deepEqual(p.sharedWith, ids.slice(0, ids.indexOf(p.id)), p.id);
      assert.ok(!p.events.some((e) => e.kind === 'file' && e.path.includes('/lib/.loading/')), 'no markers');
    }
    const exfil = run.packages.filter((p) =>
      own(p, 'http').some(
        (e) => e.host === 'env-dump.example' && e.body.includes(token(run, 'env:GITHUB_TOKEN')),
      ),
    );
    assert.ok(exfil.length > 0, describeRun(run));
    for (const p of exfil) assert.ok(p.id === dumpId || p.sharedWith.includes(dumpId), p.id);
    // Whatever was loaded before the dump owns no egress at all.
    for (const p of run.packages.slice(0, ids.indexOf(dumpId)))
      assert.deepEqual(
        p.events.filter((e) => EGRESS.has(e.kind)),
        [],
        p.id,
      );
  });

  test('import: a loader per package (groupSize 1); the env dump belongs to its package only', async () => {
    const packages = importPackages();
    const run = await runBatch({
      phase: 'import',
      packages,
      timeoutMs: 15_000,
      graceMs: 1_000,
      groupSize: 1,
    });
    assert.equal(run.status, 'completed', describeRun(run));
    const dump = pkg(run, 'fixture-import-env-dump');
    assert.ok(
      own(dump, 'http').some(
        (e) => e.host === 'env-dump.example' && e.body.includes(token(run, 'env:GITHUB_TOKEN')),
      ),
    );
    for (const name of ['fixture-benign-banner', 'fixture-benign-platform-check', 'fixture-browser-hook']) {
      const p = pkg(run, name);
      assert.equal(p.status, 'completed');
      assert.ok(
        p.events.some((e) => e.kind === 'file' && e.path.startsWith(p.packageDir)),
        `${name} was loaded`,
      );
      assert.deepEqual(
        p.events.filter((e) => EGRESS.has(e.kind)),
        [],
        `${name} owns no egress`,
      );
      assert.deepEqual(p.sharedWith, []);
    }
  });

  test('browser, shared loader: each package has its own window; a late hook is found, on it or after it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sr-late-'));
    try {
      await writeFile(
        join(dir, 'package.json'),
        JSON.stringify({ name: 'fixture-late-hook', version: '1.0.0', main: 'index.js' }),
      );
      await writeFile(
        join(dir, 'index.js'),
        "setTimeout(() => { if (typeof window !== 'undefined') window.fetch = () => Promise.resolve(null); }, 100);\n",
      );
      const packages = [
        fixture(join(MALICIOUS, 'browser-hook')),
        fixture(join(BENIGN, 'platform-check')),
        { name: 'fixture-late-hook', version: '1.0.0', dir },
        fixture(join(BENIGN, 'banner-postinstall')),
      ];
      const run = await runBatch({ phase: 'browser', packages, timeoutMs: 20_000, graceMs: 500 });
      assert.equal(run.status, 'completed', describeRun(run));
      const browser = (name: string) => own(pkg(run, name), 'browser');
      const hook = browser('fixture-browser-hook');
      assert.ok(
        hook.some((e) => e.api === 'ethereum' && e.action === 'wrapped'),
        JSON.stringify(hook),
      );
      // A timer fires after the next package took the globals: the replacement shows on the late hook or on
      // a package loaded after it in its loader (whose sharedWith names it, so both are run again alone).
      const lateId = 'fixture-late-hook@1.0.0';
      const replaced = run.packages.filter((p) =>
        own(p, 'browser').some((e) => e.api === 'fetch' && e.action === 'replaced'),
      );
      assert.ok(replaced.length > 0, describeRun(run));
      for (const p of replaced)
        assert.ok(
          p.id === 'fixture-browser-hook@5.6.1' || p.id === lateId || p.sharedWith.includes(lateId),
          p.id,
        );
      assert.deepEqual(
        browser('fixture-benign-platform-check').filter((e) => e.action !== 'called'),
        [],
        'loaded before the late hook: nothing replaced or wrapped',
      );
      assert.ok(pkg(run, 'fixture-benign-banner').sharedWith.length > 0, 'they shared a loader');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('isolate: the rest of the tree stays where it was; what was nested under the target moves with it', async () => {
    const dir = join(BENIGN, 'banner-postinstall');
    const at = (name: string, path: string): BatchPackage => ({ name, version: '1.0.0', dir, path });
    const run = await runBatch({
      phase: 'import',
      packages: [
        at('a', 'node_modules/a'),
        at('b', 'node_modules/b'),
        at('c', 'node_modules/a/node_modules/c'),
        at('b', 'node_modules/a/node_modules/b'),
        at('d', 'node_modules/a/node_modules/b/node_modules/d'),
        // Two packages in one place: the batch fails before any sandbox starts; isolate() still answers.
        at('e', 'node_modules/e'),
        at('e', 'node_modules/e'),
      ],
    });
    assert.equal(run.status, 'error');
    const paths = (iso: ReturnType<BatchRun['isolate']>): string[] =>
      (iso.dependencies ?? []).map((d) => d.path ?? '').sort();
    // b@1.0.0 is found first at the top: its own slot; nothing else moves.
    assert.deepEqual(paths(run.isolate('c')), [
      'node_modules/a',
      'node_modules/a/node_modules/b',
      'node_modules/a/node_modules/b/node_modules/d',
      'node_modules/b',
      'node_modules/e',
      'node_modules/e',
    ]);
    assert.deepEqual(paths(run.isolate('a')), [
      'node_modules/a/node_modules/b',
      'node_modules/a/node_modules/b/node_modules/d',
      'node_modules/a/node_modules/c',
      'node_modules/b',
      'node_modules/e',
      'node_modules/e',
    ]);
  });

  describe('timeouts fail closed', () => {
    let hangDir = '';
    before(async () => {
      hangDir = await mkdtemp(join(tmpdir(), 'sr-hang-'));
      await writeFile(
        join(hangDir, 'package.json'),
        JSON.stringify({
          name: 'fixture-hang',
          version: '1.0.0',
          scripts: { postinstall: 'node -e "setInterval(()=>{},1000)"' },
        }),
      );
    });
    after(() => rm(hangDir, { recursive: true, force: true }));

    test('a shared loader that exits or hangs costs only the package it was loading', async () => {
      const make = async (name: string, code: string): Promise<BatchPackage> => {
        const dir = join(hangDir, name);
        await mkdir(dir, { recursive: true });
        await writeFile(
          join(dir, 'package.json'),
          JSON.stringify({ name, version: '1.0.0', main: 'index.js' }),
        );
        await writeFile(join(dir, 'index.js'), code);
        return { name, version: '1.0.0', dir };
      };
      const packages = [
        await make('fixture-quiet-a', 'module.exports = 1;\n'),
        await make('fixture-exits', 'process.exit(3);\n'),
        await make('fixture-quiet-b', 'module.exports = 2;\n'),
        await make('fixture-spins', 'for (;;) {}\n'),
        await make('fixture-quiet-c', 'module.exports = 3;\n'),
      ];
      const run = await runBatch({ phase: 'import', packages, timeoutMs: 8_000, graceMs: 500 });
      assert.equal(run.status, 'completed', describeRun(run));
      assert.equal(pkg(run, 'fixture-exits').status, 'crashed');
      assert.equal(pkg(run, 'fixture-spins').status, 'timeout');
      for (const name of ['fixture-quiet-a', 'fixture-quiet-b', 'fixture-quiet-c']) {
        const p = pkg(run, name);
        assert.equal(p.status, 'completed', `${name}: ${p.error}`);
        assert.equal(p.needsIsolation, false, `${name} was seen loading`);
      }
      // Each loader after a failure is a fresh process: b and c share nothing with the failed ones' loaders.
      assert.deepEqual(pkg(run, 'fixture-quiet-a').sharedWith, []);
      assert.deepEqual(pkg(run, 'fixture-quiet-b').sharedWith, []);
      assert.deepEqual(pkg(run, 'fixture-quiet-c').sharedWith, []);
      assert.deepEqual(pkg(run, 'fixture-spins').sharedWith, ['fixture-quiet-b@1.0.0']);
    });

    test("one package's timeout leaves its neighbours' results and events intact", async () => {
      const packages = [
        fixture(join(BENIGN, 'hook-installer')),
        fixture(hangDir),
        fixture(join(MALICIOUS, 'exfil-https')),
      ];
      // The hang uses its whole budget; its neighbours must finish well within theirs even on a loaded
      // 2-core CI machine (exfil-https alone takes ~4 s at a load of 10).
      const run = await runBatch({ phase: 'install', packages, timeoutMs: 10_000, graceMs: 1_000 });
      assert.equal(run.status, 'completed', describeRun(run));
      assert.equal(pkg(run, 'fixture-hang').status, 'timeout');
      assert.equal(pkg(run, 'fixture-benign-hook-installer').status, 'completed');
      const exfil = pkg(run, 'fixture-exfil-https');
      assert.equal(exfil.status, 'completed');
      assert.ok(
        own(exfil, 'http').some((e) => e.host === 'exfil.example'),
        describeRun(run),
      );
    });

    test('a batch cut short: finished packages keep their events, the rest are never completed', async () => {
      const packages = [
        fixture(join(MALICIOUS, 'exfil-https')),
        fixture(hangDir),
        fixture(join(BENIGN, 'hook-installer')),
      ];
      const run = await runBatch({
        phase: 'install',
        packages,
        timeoutMs: 60_000,
        // Enough for the runner to start, exfil-https to finish and the hang to start on a loaded machine.
        batchTimeoutMs: 12_000,
        graceMs: 500,
      });
      assert.equal(run.status, 'timeout', describeRun(run));
      const exfil = pkg(run, 'fixture-exfil-https');
      assert.equal(exfil.status, 'completed');
      assert.ok(
        own(exfil, 'http').some((e) => e.host === 'exfil.example'),
        describeRun(run),
      );
      const hang = pkg(run, 'fixture-hang');
      assert.equal(hang.status, 'timeout');
      assert.ok(
        hang.events.some((e) => e.kind === 'process'),
        'its events were kept',
      );
      const never = pkg(run, 'fixture-benign-hook-installer');
      assert.equal(never.status, 'error');
      assert.match(never.error ?? '', /not run/);
      // Isolation guidance: runPhase options for the package alone, the others as dependencies.
      const iso = run.isolate('fixture-hang');
      assert.equal(iso.packageName, 'fixture-hang');
      assert.equal(iso.phase, 'install');
      assert.deepEqual(iso.dependencies?.map((d) => d.name).sort(), [
        'fixture-benign-hook-installer',
        'fixture-exfil-https',
      ]);
    });
  });
});
