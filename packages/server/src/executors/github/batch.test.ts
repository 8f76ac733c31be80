// Batches through the github executor (SR_GITHUB_BATCH): one workflow run carries the import phase of
// several packages, the runner runs them with the sandbox's batch runner, and the phase batcher applies
// the local attribution and re-run-alone rules to what comes back. A batch whose run fails, is cancelled
// or sends a result that does not match what was sent is `error` for every package in it (fail closed).
import { strict as assert } from 'node:assert';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { checkSandboxSupport } from '@secure-registry/analyzer';
import type { BatchRunOptions } from '@secure-registry/analyzer';
import { PhaseBatcher, reduceRun, type BatchItem } from '../../pipeline/phase-batcher.js';
import { SandboxSlots } from '../../pipeline/sandbox-slots.js';
import { behaviourFindings } from '../../verdict/index.js';
import { GithubStandin, quietRun, recordedBatch } from '../../test-support/github-standin.js';
import type { GithubStandinOptions } from '../../test-support/github-standin.js';
import { GitHubApi } from './api.js';
import { createGithubExecutor } from './executor.js';
import type { GithubExecutor } from './executor.js';
import { registerExecutorRoutes } from './routes.js';
import type { BatchBundle } from './bundle.js';
import { resultUrlFor, runAnalysis } from './runner.js';
import { RESULT_KEY_HEADER, SIGNATURE_HEADER, signBody, Transfer } from './transfer.js';

const TOKEN = 'ghp_standin_token';
const REPOSITORY = 'acme/analysis';
const WORKFLOW = 'analyze-package.yml';
const FIXTURES = fileURLToPath(new URL('../../../../../fixtures/packages/', import.meta.url));
const support = await checkSandboxSupport();

let app: FastifyInstance;
let transfer: Transfer;
let work: string;
const standins: GithubStandin[] = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'sr-ghbatch-'));
  app = Fastify();
  transfer = new Transfer('http://127.0.0.1:1', 10 * 60_000);
  registerExecutorRoutes(app, transfer);
  await app.listen({ port: 0, host: '127.0.0.1' });
  transfer.publicUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

after(async () => {
  await Promise.all(standins.map((s) => s.close()));
  await app.close();
  await rm(work, { recursive: true, force: true });
});

async function executorWith(options: Partial<GithubStandinOptions>): Promise<{
  standin: GithubStandin;
  executor: GithubExecutor;
}> {
  const standin = await new GithubStandin({
    token: TOKEN,
    repository: REPOSITORY,
    workflow: WORKFLOW,
    ...options,
  }).start();
  standins.push(standin);
  const executor = createGithubExecutor({
    api: new GitHubApi({ baseUrl: standin.baseUrl, token: TOKEN, backoffMs: 10 }),
    repository: REPOSITORY,
    workflow: WORKFLOW,
    transfer,
    maxJobs: 4,
    maxBatch: 8,
    runTimeoutMs: 10 * 60_000,
    pollMs: 50,
  });
  return { standin, executor };
}

async function packageItem(name: string, code: string): Promise<BatchItem> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', main: 'index.js' }));
  await writeFile(join(dir, 'index.js'), code);
  return { name, version: '1.0.0', dir };
}

/** The import-phase batcher of the dynamic stage, over `executor`: its batches and its runs alone. */
function batcherOver(executor: GithubExecutor, alone: string[]): PhaseBatcher {
  return new PhaseBatcher({
    phase: 'import',
    slots: new SandboxSlots(executor.concurrency, 30_000, Number.POSITIVE_INFINITY),
    graceMs: 1_000,
    collectMs: 100,
    maxBatch: executor.maxBatch!,
    strictDns: false,
    run: executor.runBatch,
    baseline: () => undefined,
    runAlone: async (item) => {
      alone.push(item.name);
      const run = await executor.runPhase({
        phase: 'import',
        packageName: item.name,
        packageVersion: item.version,
        packageDir: item.dir,
        timeoutMs: 30_000,
        graceMs: 1_000,
      });
      return {
        report: reduceRun('import', item, run, undefined),
        run,
        timeoutMs: 30_000,
        batch: { size: 1 },
      };
    },
    notable: (report, item) =>
      behaviourFindings({ name: item.name, version: item.version, report }).some(
        (f) => f.severity !== 'info',
      ),
  });
}

const batchRuns = (standin: GithubStandin) =>
  standin.runs.filter((r) => (JSON.parse(r.inputs.limits ?? '{}') as { packages?: number }).packages);

describe('github executor batches', () => {
  test('one run carries the batch: the runner unpacks every package and its result comes back per package', async () => {
    const seen: string[][] = [];
    const { standin, executor } = await executorWith({
      runWorkflow: async (inputs) => {
        await runAnalysis(
          {
            analysisId: inputs.analysis_id!,
            artifactUrl: inputs.artifact_url!,
            integrity: inputs.integrity!,
          },
          async () => assert.fail('a batch artifact ran as a single run'),
          async (options: BatchRunOptions) => {
            seen.push(await Promise.all(options.packages.map(async (p) => (await readdir(p.dir)).join(','))));
            return {
              ...recordedBatch(quietRun(), options.packages),
              isolate: () => assert.fail('not called'),
            };
          },
        );
        return 'success';
      },
    });
    assert.equal(executor.batches, true);
    const a = await packageItem('batch-a', 'module.exports = 1;\n');
    const b = await packageItem('batch-b', 'module.exports = 2;\n');
    const batch = await executor.runBatch({ phase: 'import', packages: [a, b], timeoutMs: 30_000 });
    assert.equal(batch.status, 'completed', batch.error);
    assert.deepEqual(
      batch.packages.map((p) => [p.id, p.status]),
      [
        ['batch-a@1.0.0', 'completed'],
        ['batch-b@1.0.0', 'completed'],
      ],
    );
    assert.deepEqual(seen, [['index.js,package.json', 'index.js,package.json']]);
    assert.equal(standin.runs.length, 1);
    assert.match(batch.details.at(-1) ?? '', /GitHub Actions run: https:\/\/github\.com\/acme\/analysis/);
    // The server's side of isolation is rebuilt from what it sent: the other package as a dependency.
    assert.deepEqual(
      batch.isolate('batch-b').dependencies?.map((d) => d.name),
      ['batch-a'],
    );
  });

  test('a cancelled batch run holds every package in it; run alone and cancelled again, each stays held', async () => {
    const { standin, executor } = await executorWith({ runWorkflow: async () => 'cancelled' });
    const alone: string[] = [];
    const batcher = batcherOver(executor, alone);
    const items = await Promise.all(['held-a', 'held-b', 'held-c'].map((n) => packageItem(n, '1;\n')));
    const outcomes = await Promise.all(items.map((i) => batcher.submit(i)));
    assert.equal(batchRuns(standin).length, 1);
    for (const outcome of outcomes) {
      assert.equal(outcome.run.status, 'error');
      assert.equal(outcome.report.status, 'error');
      assert.match(outcome.run.error ?? '', /ended cancelled and sent no result: https:\/\/github\.com\//);
      assert.match(outcome.batch.isolated ?? '', /the batch ended \(error/);
    }
    assert.deepEqual(alone.sort(), ['held-a', 'held-b', 'held-c']);
  });

  test("a batch result that is not the batch sent (a package missing, another's id) is error for every package", async () => {
    let answered = 0;
    const { executor } = await executorWith({
      // A runner that reports other packages than the artifact it downloaded carried (signed with the
      // right key: the signature proves who sent it, not that it matches).
      runWorkflow: async (inputs) => {
        const response = await fetch(inputs.artifact_url!);
        const key = response.headers.get(RESULT_KEY_HEADER)!;
        const artifact = JSON.parse(
          Buffer.from(await response.arrayBuffer()).toString('utf8'),
        ) as BatchBundle;
        const packages = answered++ === 0 ? artifact.packages.slice(1) : artifact.packages.reverse();
        const body = JSON.stringify({
          analysisId: inputs.analysis_id,
          batch: recordedBatch(quietRun(), packages),
        });
        const posted = await fetch(resultUrlFor(inputs.artifact_url!, inputs.analysis_id!), {
          method: 'POST',
          headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signBody(key, body) },
          body,
        });
        return posted.ok ? 'success' : 'failure';
      },
    });
    const items = await Promise.all(['short-a', 'short-b'].map((n) => packageItem(n, '1;\n')));
    for (const expected of [/not a batch run of the packages sent/, /is not a run of short-a@1\.0\.0/]) {
      const batch = await executor.runBatch({ phase: 'import', packages: items, timeoutMs: 30_000 });
      assert.equal(batch.status, 'error');
      assert.match(batch.error ?? '', expected);
      assert.ok(batch.packages.every((p) => p.status === 'error' && !p.ran));
    }
  });

  test(
    'a malicious and a benign package in one batch, through the stand-in running the runner program in the real sandbox',
    { skip: !support.ok && support.missing.join(', '), timeout: 600_000 },
    async () => {
      const { standin, executor } = await executorWith({});
      const malicious = join(work, 'fixture-import-env-dump');
      await cp(join(FIXTURES, 'malicious/import-env-dump'), malicious, { recursive: true });
      const benign = await packageItem('fixture-batch-benign', 'module.exports = () => "ok";\n');
      const alone: string[] = [];
      const batcher = batcherOver(executor, alone);
      // Loaded in this order in one loader: the malicious one shares it with the benign one.
      const [good, bad] = await Promise.all([
        batcher.submit(benign),
        batcher.submit({ name: 'fixture-import-env-dump', version: '4.2.0', dir: malicious }),
      ]);
      // One workflow run carried both; what the malicious one did would raise a finding in a shared
      // loader, so both were run again alone before anyone was blamed.
      assert.equal(batchRuns(standin).length, 1);
      assert.equal(bad.batch.size, 2);
      assert.match(bad.batch.isolated ?? '', /shared/);
      assert.deepEqual(alone.sort(), ['fixture-batch-benign', 'fixture-import-env-dump']);
      assert.ok(
        bad.report.http.some((h) => h.host === 'env-dump.example'),
        JSON.stringify(bad.report.http),
      );
      assert.deepEqual(good.report.http, []);
      assert.deepEqual(good.report.dns, []);
      assert.equal(good.run.status, 'completed', good.run.error);
      // A run concludes once its runner program exits, a moment after it posted the result.
      while (standin.runs.some((r) => r.status !== 'completed'))
        await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(
        standin.runs.every((r) => r.conclusion === 'success'),
        JSON.stringify(standin.runs.map((r) => r.conclusion)),
      );
    },
  );
});
