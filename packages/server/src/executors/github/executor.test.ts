import { strict as assert } from 'node:assert';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { checkSandboxSupport, runPhase } from '@secure-registry/analyzer';
import type { PhaseRunOptions } from '@secure-registry/analyzer';
import { GithubStandin, quietRun, recordedRunWorkflow } from '../../test-support/github-standin.js';
import type { GithubStandinOptions, WorkflowOutcome } from '../../test-support/github-standin.js';
import { GitHubApi } from './api.js';
import { createGithubExecutor } from './executor.js';
import { registerExecutorRoutes } from './routes.js';
import { runAnalysis } from './runner.js';
import { Transfer } from './transfer.js';

const TOKEN = 'ghp_standin_token';
const REPOSITORY = 'acme/analysis';
const WORKFLOW = 'analyze-package.yml';

let app: FastifyInstance;
let transfer: Transfer;
let work: string;
const standins: GithubStandin[] = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'sr-ghexec-'));
  app = Fastify();
  transfer = new Transfer('http://127.0.0.1:1', 5 * 60_000);
  registerExecutorRoutes(app, transfer);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  transfer.publicUrl = `http://127.0.0.1:${port}`; // known once the port is
});

after(async () => {
  await Promise.all(standins.map((s) => s.close()));
  await app.close();
  await rm(work, { recursive: true, force: true });
});

async function standin(options: Partial<GithubStandinOptions> = {}): Promise<GithubStandin> {
  const s = await new GithubStandin({
    token: TOKEN,
    repository: REPOSITORY,
    workflow: WORKFLOW,
    ...options,
  }).start();
  standins.push(s);
  return s;
}

function executorFor(s: GithubStandin, maxJobs = 4, runTimeoutMs = 120_000) {
  return createGithubExecutor({
    api: new GitHubApi({ baseUrl: s.baseUrl, token: TOKEN, backoffMs: 10 }),
    repository: REPOSITORY,
    workflow: WORKFLOW,
    transfer,
    maxJobs,
    runTimeoutMs,
    pollMs: 50,
  });
}

async function packageFixture(name: string, files: Record<string, string>): Promise<string> {
  const dir = join(work, name);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

/** The install phase of a bare package `name@1.0.0` (a package.json and nothing else). */
async function bareInstall(name: string): Promise<PhaseRunOptions> {
  const manifest = JSON.stringify({ name, version: '1.0.0' });
  const packageDir = await packageFixture(name, { 'package.json': manifest });
  return { phase: 'install', packageName: name, packageVersion: '1.0.0', packageDir };
}

/** A workflow run that unpacks the artifact for real and reports the files it found (no sandbox). */
function listingWorkflow(seen: string[][]): (inputs: Record<string, string>) => Promise<WorkflowOutcome> {
  return async (inputs) => {
    await runAnalysis(
      { analysisId: inputs.analysis_id!, artifactUrl: inputs.artifact_url!, integrity: inputs.integrity! },
      async (options: PhaseRunOptions) => {
        const files = [
          ...(await readdir(options.packageDir)),
          ...(await Promise.all(
            (options.dependencies ?? []).map(async (d) => `${d.name}:${(await readdir(d.dir)).join(',')}`),
          )),
        ];
        seen.push(files);
        return {
          status: 'completed',
          durationMs: 1,
          events: [],
          honeytokens: [],
          home: '/h',
          projectDir: '/p',
          packageDir: options.packageDir,
          details: files,
        };
      },
    );
    return 'success';
  };
}

describe('github executor against the GitHub API stand-in', () => {
  test('dispatch → runner downloads and verifies the artifact → signed result comes back as the PhaseRun', async () => {
    const seen: string[][] = [];
    const s = await standin({ runWorkflow: listingWorkflow(seen) });
    const pkg = await packageFixture('p1', {
      'package.json': '{"name":"p1","version":"1.0.0"}',
      'index.js': '1',
    });
    const dep = await packageFixture('d1', { 'package.json': '{"name":"d1","version":"1.0.0"}' });
    const run = await executorFor(s).runPhase({
      phase: 'install', packageName: 'p1', packageVersion: '1.0.0', packageDir: pkg, dependencies: [{ name: 'd1', dir: dep }],
    }); // prettier-ignore
    assert.equal(run.status, 'completed', run.error);
    assert.deepEqual(seen, [['index.js', 'package.json', 'd1:package.json']]);
    assert.ok(
      run.details.some((d) => d.includes(`https://github.com/${REPOSITORY}/actions/runs/`)),
      run.details.join('\n'),
    );
    assert.ok(s.requests.includes(`POST /repos/${REPOSITORY}/actions/workflows/${WORKFLOW}/dispatches`));
  });

  test('without run details in the dispatch answer the run is found by its unique run-name', async () => {
    const s = await standin({ runWorkflow: listingWorkflow([]), noRunDetails: true });
    const run = await executorFor(s).runPhase(await bareInstall('p2'));
    assert.equal(run.status, 'completed', run.error);
    assert.ok(
      s.requests.some((r) => r.endsWith(`/actions/workflows/${WORKFLOW}/runs`)),
      s.requests.join('\n'),
    );
  });

  test('rate limits (429 retry-after, secondary 403) and a 502 are waited out / retried', async () => {
    const s = await standin({ runWorkflow: listingWorkflow([]) });
    s.rateLimitNext(1, { status: 429, retryAfter: 1 });
    s.rateLimitNext(1, { status: 403, retryAfter: 1, secondary: true });
    s.failNext(1);
    const options = await bareInstall('p3');
    const started = Date.now();
    const run = await executorFor(s).runPhase(options);
    assert.equal(run.status, 'completed', run.error);
    assert.ok(Date.now() - started >= 2000, 'waited the two retry-after seconds');
    assert.ok(s.requests.filter((r) => r.endsWith('/dispatches')).length >= 4);
  });

  test('a cancelled run, a tampered artifact and a bad token fail closed with the run URL', async () => {
    const options = await bareInstall('p4');

    const cancelled = await standin({ runWorkflow: async () => 'cancelled' });
    const a = await executorFor(cancelled).runPhase(options);
    assert.equal(a.status, 'error');
    assert.match(
      a.error ?? '',
      /ended cancelled and sent no result: https:\/\/github\.com\/acme\/analysis\/actions\/runs\/\d+/,
    );

    const tampered = await standin({
      runWorkflow: async (inputs) => {
        const ok = await runAnalysis(
          { analysisId: inputs.analysis_id!, artifactUrl: inputs.artifact_url!, integrity: 'sha256-AAAA' },
          async () => assert.fail('ran a tampered artifact'),
        ).then(
          () => true,
          (error: Error) => /integrity mismatch/.test(error.message),
        );
        return ok ? 'failure' : 'success';
      },
    });
    const b = await executorFor(tampered).runPhase(options);
    assert.equal(b.status, 'error');
    assert.match(b.error ?? '', /ended failure and sent no result/);

    const badToken = await standin({ token: 'another' });
    const c = await executorFor(badToken).runPhase(options);
    assert.equal(c.status, 'error');
    assert.match(c.error ?? '', /401 Bad credentials/);
    assert.equal((await executorFor(badToken).checkSupport()).ok, false);
  });

  test('a run past its deadline is an error, and its artifact link closes', async () => {
    let url = '';
    const s = await standin({
      runWorkflow: async (inputs) => {
        url = inputs.artifact_url!;
        await new Promise(() => {}); // a runner that never finishes
        return 'success';
      },
    });
    const run = await executorFor(s, 1, 500).runPhase(await bareInstall('p5'));
    assert.equal(run.status, 'error');
    assert.match(run.error ?? '', /timed out after 500 ms: https:\/\/github\.com\//);
    assert.equal((await fetch(url)).status, 404);
  });

  test('the result route refuses a wrong signature and the artifact route a forged token', async () => {
    const offer = transfer.offer(Buffer.from('{}'));
    const base = transfer.publicUrl;
    const post = await fetch(`${base}/executor/results/${offer.id}`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': 'sha256=00' }, body: '{"analysisId":"x"}',
    }); // prettier-ignore
    assert.equal(post.status, 401);
    const forged = new URL(offer.url);
    forged.searchParams.set('token', 'forged');
    assert.equal((await fetch(forged)).status, 404);
    const good = await fetch(offer.url);
    assert.equal(good.status, 200);
    assert.ok(good.headers.get('x-result-key'));
    transfer.release(offer.id);
    assert.equal((await fetch(offer.url)).status, 404);
  });

  test('jobs in flight stay within maxJobs', async () => {
    let inFlight = 0;
    let most = 0;
    const s = await standin({
      runWorkflow: async (inputs) => {
        await runAnalysis(
          {
            analysisId: inputs.analysis_id!,
            artifactUrl: inputs.artifact_url!,
            integrity: inputs.integrity!,
          },
          async (options) => {
            most = Math.max(most, ++inFlight);
            await new Promise((resolve) => setTimeout(resolve, 100));
            inFlight--; // before the result is posted: the executor frees the slot only once it has it
            return {
              status: 'completed',
              durationMs: 100,
              events: [],
              honeytokens: [],
              home: '/h',
              projectDir: '/p',
              packageDir: options.packageDir,
              details: [],
            };
          },
        );
        return 'success';
      },
    });
    const options = await bareInstall('p6');
    const executor = executorFor(s, 2);
    const runs = await Promise.all(Array.from({ length: 6 }, () => executor.runPhase(options)));
    assert.deepEqual(
      runs.map((r) => r.status),
      Array(6).fill('completed'),
    );
    assert.equal(most, 2);
  });
});

describe('github executor with the real runner program and sandbox', async () => {
  const support = await checkSandboxSupport();
  test(
    'the same events as the local sandbox for an install script',
    { skip: !support.ok && support.missing.join(', '), timeout: 300_000 },
    async () => {
      const s = await standin(); // default: the runner program as a subprocess
      const pkg = await packageFixture('p7', {
        'package.json': JSON.stringify({
          name: 'p7',
          version: '1.0.0',
          scripts: { install: 'node install.js' },
        }),
        'install.js':
          "require('fs').writeFileSync(require('os').homedir() + '/marker.txt', 'x'); require('child_process').execSync('id');",
      });
      const options = {
        phase: 'install' as const,
        packageName: 'p7',
        packageVersion: '1.0.0',
        packageDir: pkg,
        timeoutMs: 60_000,
      };
      const remote = await executorFor(s, 1, 280_000).runPhase(options);
      const local = await runPhase(options);
      assert.equal(remote.status, 'completed', remote.error);
      assert.equal(local.status, 'completed', local.error);
      const summary = (events: typeof remote.events) =>
        [
          ...new Set(
            events.flatMap((e) =>
              e.kind === 'process'
                ? [`exec ${e.path.split('/').pop()}`]
                : e.kind === 'file' && e.path.endsWith('marker.txt')
                  ? ['marker']
                  : [],
            ),
          ),
        ].sort();
      assert.ok(summary(remote.events).includes('marker'), summary(remote.events).join(', '));
      assert.deepEqual(summary(remote.events), summary(local.events));
      assert.ok(JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')).name === 'p7');
    },
  );
});

describe('github executor configuration', () => {
  test('SR_EXECUTOR=github names what is missing, and builds the executor when complete', async () => {
    const { parseServerConfig } = await import('../../config/server-config.js');
    const env = { SR_EXECUTOR: 'github', SR_UPSTREAM_REGISTRY: 'http://127.0.0.1:9/' };
    assert.throws(
      () => parseServerConfig(env, work),
      /SR_GITHUB_REPOSITORY: required for SR_EXECUTOR=github/,
    );
    assert.throws(
      () => parseServerConfig({ ...env, SR_GITHUB_REPOSITORY: 'a/b' }, work),
      /SR_GITHUB_TOKEN: required/,
    );
    assert.throws(
      () => parseServerConfig({ ...env, SR_GITHUB_REPOSITORY: 'a/b', SR_GITHUB_TOKEN: 't' }, work),
      /SR_PUBLIC_URL: required/,
    );
    const full = {
      ...env,
      SR_GITHUB_REPOSITORY: 'a/b',
      SR_GITHUB_TOKEN: 't',
      SR_PUBLIC_URL: 'https://sr.example',
    };
    const { config } = parseServerConfig({ ...full, SR_GITHUB_MAX_JOBS: '7' }, work);
    assert.ok(config.sandbox !== false);
    assert.equal(config.sandbox.executor?.kind, 'github');
    assert.equal(config.sandbox.executor?.concurrency, 7);
    assert.throws(
      () => parseServerConfig({ ...full, SR_EXECUTOR: 'aws' }, work),
      /SR_EXECUTOR: expected "local" or "github"/,
    );
  });

  test('status polls are spread over the runs in flight (a token allows 5,000 requests an hour)', async () => {
    const RUNS = 6;
    const SPACING = 200;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let started = 0;
    const post = recordedRunWorkflow(quietRun());
    const s = await standin({
      runWorkflow: async (inputs) => {
        started++;
        await gate;
        return post(inputs);
      },
    });
    const executor = createGithubExecutor({
      api: new GitHubApi({ baseUrl: s.baseUrl, token: TOKEN, backoffMs: 10 }),
      repository: REPOSITORY,
      workflow: WORKFLOW,
      transfer,
      maxJobs: RUNS,
      runTimeoutMs: 120_000,
      pollMs: 10,
      pollSpacingMs: SPACING,
    });
    const options = await Promise.all(Array.from({ length: RUNS }, (_, i) => bareInstall(`spread-${i}`)));
    const runs = Promise.all(options.map((o) => executor.runPhase(o)));
    while (started < RUNS) await new Promise((resolve) => setTimeout(resolve, 20));
    const statusPolls = () => s.requests.filter((r) => /^GET .*\/actions\/runs\/\d+$/.test(r)).length;
    const before = statusPolls();
    const from = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const polls = statusPolls() - before;
    const elapsed = Date.now() - from;
    open();
    for (const run of await runs) assert.equal(run.status, 'completed', run.details.join('; '));
    // Every run polls at most once per RUNS × SPACING ms: about elapsed / SPACING in all, not the
    // RUNS × elapsed / 10 of a fixed 10 ms poll per run. (A slow machine polls less, never more.)
    assert.ok(
      polls <= elapsed / SPACING + 2 * RUNS,
      `${polls} status polls in ${elapsed} ms with ${RUNS} runs in flight`,
    );
  });
});
