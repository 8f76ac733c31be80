// Bench: fan-out of a cold lockfile scan to GitHub Actions runners (issue 10). The server (in this
// process, SR_EXECUTOR=github) dispatches every install phase run, and every batch of up to
// SR_GITHUB_BATCH import or browser phases, as a workflow run to the GitHub REST stand-in
// (packages/server/src/test-support/github-standin.ts); each simulated runner waits `--latency-ms` (a
// runner's queueing, start-up and job), downloads and checks the artifact and posts a recorded quiet
// result (per package for a batch), signed. For each K (SR_GITHUB_MAX_JOBS) it prints the wall time
// against two ideals — ceil(package-phase runs / K) × latency (one job per package phase, the issue's)
// and ceil(jobs / K) × latency (the jobs actually dispatched) — the most runs in flight (must not exceed
// K) and whether every package got a verdict. See bench/README.md.
// Usage: node bench/dist/github-fanout.js [lockfile] [--k 20,50,100] [--latency-ms 20000] [--batch 16]
//        [--work DIR] [--json]
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '@secure-registry/server';
import type { ScanResult } from '@secure-registry/shared';
import {
  quietRun,
  recordedRunWorkflow,
  withSimulatedLatency,
} from '../../packages/server/dist/test-support/github-standin.js';
import type { FanoutStats } from '../../packages/server/dist/test-support/github-standin.js';
import {
  freePort,
  githubExecutorEnv,
  STANDIN_REPOSITORY,
  STANDIN_WORKFLOW,
  startStandin,
} from './github-standin-env.js';
import { benchArgs, loadLockfile, sec, type Entry, type Lockfile } from './lockfile-bench.js';
import { downloadPackuments, graphOf, startMirror, waitForCompletion } from './lockfile-mirror.js';

interface FanoutResult {
  k: number;
  latencyMs: number;
  wallMs: number;
  /** SR_GITHUB_BATCH: packages per import/browser job. */
  batch: number;
  /** ceil(packagePhaseRuns / K) × latency: one job per package phase (the issue's ideal). */
  perPhaseIdealMs: number;
  perPhaseOverhead: number;
  /** ceil(jobs / K) × latency: the jobs dispatched (batches counted once). */
  idealMs: number;
  overhead: number;
  jobs: number;
  /** Package-phase runs the jobs carried (a batch counts its packages; the control baseline's 3 too). */
  packagePhaseRuns: number;
  maxInFlight: number;
  /** Mean runs in flight over the wall time, sampled every 250 ms. */
  meanInFlight: number;
  /** From the scan's start to the first run, and from the last run's end to the scan's end. */
  firstRunMs: number;
  tailMs: number;
  apiRequests: Record<string, number>;
  failedRuns: number;
  packages: number;
  states: Record<string, number>;
  allDecided: boolean;
}

/** "GET /repos/o/r/actions/runs/1234" → "GET runs/:id". */
function requestKind(request: string): string {
  return request
    .replace(`/repos/${STANDIN_REPOSITORY}`, '')
    .replace(/\/actions\/runs\/\d+/, ' run')
    .replace(`/actions/workflows/${STANDIN_WORKFLOW}`, ' workflow')
    .replace(/\s+/g, ' ');
}

async function fanout(options: {
  k: number;
  latencyMs: number;
  batch: number;
  lock: Lockfile;
  entries: Entry[];
  upstream: string;
}): Promise<FanoutResult> {
  const stats: FanoutStats = { inFlight: 0, maxInFlight: 0, started: 0 };
  const standin = await startStandin(
    withSimulatedLatency(recordedRunWorkflow(quietRun()), options.latencyMs, stats),
  );
  const dataDir = await mkdtemp(join(tmpdir(), 'sr-bench-fanout-'));
  // The runners reach the server at SR_PUBLIC_URL: its port is chosen before it starts.
  const port = await freePort();
  const server = await startServer({
    env: {
      ...process.env,
      ...githubExecutorEnv(standin, port, options.k),
      SR_GITHUB_BATCH: String(options.batch),
    },
    host: '127.0.0.1',
    port,
    dataDir,
    upstream: options.upstream,
    auth: 'none',
    llm: null,
    logger: false,
  });
  let samples = 0;
  let inFlightSum = 0;
  const sampler = setInterval(() => {
    samples++;
    inFlightSum += stats.inFlight;
  }, 250);
  try {
    const started = Date.now();
    const res = await fetch(`${server.url}/api/v1/scans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ graph: graphOf(options.lock, options.entries) }),
    });
    if (!res.ok) throw new Error(`POST /api/v1/scans: HTTP ${res.status} ${await res.text()}`);
    const { id } = (await res.json()) as { id: string };
    await waitForCompletion(`${server.url}/api/v1/scans/${id}/events`);
    const wallMs = Date.now() - started;
    clearInterval(sampler);
    const scan = (await (await fetch(`${server.url}/api/v1/scans/${id}`)).json()) as ScanResult;
    const states: Record<string, number> = {};
    for (const p of scan.packages) states[p.state] = (states[p.state] ?? 0) + 1;
    const apiRequests: Record<string, number> = {};
    for (const r of standin.requests) apiRequests[requestKind(r)] = (apiRequests[requestKind(r)] ?? 0) + 1;
    const idealMs = Math.ceil(stats.started / options.k) * options.latencyMs;
    // A batch's job says how many packages it carries (the `limits` input); any other job is one.
    const packagePhaseRuns = standin.runs
      .map((r) => (JSON.parse(r.inputs.limits ?? '{}') as { packages?: number }).packages ?? 1)
      .reduce((a, b) => a + b, 0);
    const perPhaseIdealMs = Math.ceil(packagePhaseRuns / options.k) * options.latencyMs;
    return {
      k: options.k,
      latencyMs: options.latencyMs,
      wallMs,
      batch: options.batch,
      perPhaseIdealMs,
      perPhaseOverhead: wallMs / perPhaseIdealMs - 1,
      idealMs,
      overhead: wallMs / idealMs - 1,
      jobs: stats.started,
      packagePhaseRuns,
      maxInFlight: stats.maxInFlight,
      meanInFlight: samples > 0 ? inFlightSum / samples : 0,
      firstRunMs: (stats.firstStartedAt ?? started) - started,
      tailMs: started + wallMs - (stats.lastEndedAt ?? started + wallMs),
      apiRequests,
      failedRuns: standin.runs.filter((r) => r.conclusion !== 'success').length,
      packages: scan.packages.length,
      states,
      allDecided:
        scan.packages.length === options.entries.length &&
        scan.packages.every((p) => p.state !== 'pending' && p.state !== 'analyzing'),
    };
  } finally {
    clearInterval(sampler);
    await server.close();
    await standin.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function formatResult(r: FanoutResult): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
  return [
    `K=${r.k} (batch ${r.batch}): wall ${sec(r.wallMs)}`,
    `  per-package-phase ideal ceil(${r.packagePhaseRuns}/${r.k}) × ${sec(r.latencyMs)} = ${sec(r.perPhaseIdealMs)}: overhead ${pct(r.perPhaseOverhead)}`,
    `  batched ideal ceil(${r.jobs}/${r.k}) × ${sec(r.latencyMs)} = ${sec(r.idealMs)}: overhead ${pct(r.overhead)}`,
    `  jobs dispatched ${r.jobs} carrying ${r.packagePhaseRuns} package-phase runs, max in flight ${r.maxInFlight} (${r.maxInFlight <= r.k ? 'within' : 'OVER'} K), mean in flight ${r.meanInFlight.toFixed(1)}`,
    `  first run after ${sec(r.firstRunMs)}, scan done ${sec(r.tailMs)} after the last run ended; failed runs ${r.failedRuns}`,
    `  verdicts: ${Object.entries(r.states)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ')} of ${r.packages}; every package decided: ${r.allDecided ? 'yes' : 'NO'}`,
    `  GitHub API requests: ${Object.entries(r.apiRequests)
      .map(([kind, n]) => `${n} ${kind}`)
      .join(', ')}`,
  ].join('\n');
}

async function main(): Promise<number> {
  const opts = benchArgs(
    'github-fanout.js [lockfile] [--k 20,50,100] [--latency-ms 20000] [--batch 16] [--work DIR] [--json]',
    { valueFlags: ['--k', '--latency-ms', '--batch'] },
  );
  const ks = (opts.value('--k') ?? '20,50,100').split(',').map(Number);
  const latencyMs = Number(opts.value('--latency-ms') ?? 20_000);
  const batch = Number(opts.value('--batch') ?? 16);
  if (
    ks.some((k) => !Number.isInteger(k) || k < 1) ||
    !Number.isFinite(latencyMs) ||
    latencyMs < 0 ||
    !Number.isInteger(batch) ||
    batch < 1
  ) {
    process.stderr.write(
      '--k takes positive integers (20,50,100), --latency-ms a number of ms, --batch a positive integer\n',
    );
    return 2;
  }
  const { lock, entries } = await loadLockfile(opts);
  await downloadPackuments(opts.work, [...new Set(entries.map((e) => e.name))]);
  const mirror = await startMirror(opts.work, entries);
  const results: FanoutResult[] = [];
  try {
    for (const k of ks) {
      const result = await fanout({ k, latencyMs, batch, lock, entries, upstream: mirror.url });
      results.push(result);
      process.stdout.write(
        `${formatResult(result)}\n  load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' / ')}\n`,
      );
    }
  } finally {
    mirror.server.close();
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(results)}\n`);
  const ok = results.every((r) => r.allDecided && r.maxInFlight <= r.k && r.failedRuns === 0);
  return ok ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`github-fanout: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
