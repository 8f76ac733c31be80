// Bench: the whole product path on a real lockfile, cold — a scan submitted to secure-registry-server
// (in this process, SQLite, sandbox on), every artifact fetched, checked, analysed statically and in the
// sandbox (install with dependencies, import and browser batched), judged by the rules — side by side with
// a plain `npm ci` of the same lockfile, install scripts allowed. Both sides read from local copies: npm
// from its warm cache, the server from a loopback mirror of the packuments and tarballs. See bench/README.md.
// Usage: node bench/dist/pipeline-vs-npm-ci.js [lockfile] [--work DIR] [--json] [--no-npm-ci]
//        [--replicas N[,M…] --database postgres://…] [--idle-seconds S] [--limit N]
// (--replicas: one cold scan per count, each from an empty state; 1 is the in-process server (SQLite),
// N > 1 is N server processes on one fresh PostgreSQL database (./replicas.ts), printing whether every
// artifact was analysed exactly once and, with --idle-seconds, the database's transactions per second
// while those servers sat idle before the scan (issue 9: "in one run"); --limit: scan only the first N
// packages of the lockfile, npm ci still installs all of them; --in-flight N[,M…]: one cold scan of the
// whole lockfile per count of artifacts the server analyses at once (SR_CONCURRENCY; default the server's
// 1,024), then each scan's server peak RSS side by side: flat means the peak does not grow with the count)
// (--no-npm-ci: verdicts only, no baseline — e.g. bench/lockfiles/popular.package-lock.json, whose goal
// is no rejection and at most 1 held per 1,000; every rejected and held package is listed)
import { execWithNodeFlags, SERVER_NODE_FLAGS } from '@secure-registry/shared/bin-shim';
import { appendFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '@secure-registry/server';
import type { PackageVerdictResponse, ScanResult } from '@secure-registry/shared';
import { phaseSummariesOf, readArtifactReports } from '@secure-registry/shared';
import { benchArgs, loadLockfile, mb, quantile, rssPeak, sec, timedNpmCi } from './lockfile-bench.js';
import type { Entry, Lockfile } from './lockfile-bench.js';
import { freshDatabase, idleTransactionsPerSecond } from './pg-stats.js';
import type { FreshDatabase } from './pg-stats.js';
import { downloadPackuments, graphOf, startMirror, waitForCompletion } from './lockfile-mirror.js';
import { countList, replicaCounts } from './cli-args.js';
import { startReplicas } from './replicas.js';
import { rssTimelineLines, sampleRss, StageTimer } from './stage-timing.js';

// The server in this process runs as `secure-registry-server` runs: under the server's V8 settings.
execWithNodeFlags(SERVER_NODE_FLAGS);

const USAGE =
  'pipeline-vs-npm-ci.js [lockfile] [--work DIR] [--json] [--no-npm-ci] [--in-flight N[,M…]] [--limit N] [--replicas 1[,2…]] [--database postgres://…] [--idle-seconds S]';

/**
 * For diagnosis (not printed by default): SR_BENCH_MEMORY_LOG=FILE appends one JSON line per second
 * with the RSS, V8's committed and used heap per space, and the Buffers; SR_BENCH_HEAP_SNAPSHOT_AT=S
 * also writes a heap snapshot S seconds into the scan (into the current directory).
 */
function detailedMemoryLog(): { stop(): void } | undefined {
  const file = process.env.SR_BENCH_MEMORY_LOG;
  if (!file) return undefined;
  const started = Date.now();
  const snapshotAt = Number(process.env.SR_BENCH_HEAP_SNAPSHOT_AT ?? NaN);
  let snapshotTaken = false;
  const timer = setInterval(() => {
    const s = (Date.now() - started) / 1000;
    const m = process.memoryUsage();
    const spaces = Object.fromEntries(
      getHeapSpaceStatistics().map((space) => [
        space.space_name,
        [Math.round(space.space_size / 1048576), Math.round(space.space_used_size / 1048576)],
      ]),
    );
    appendFileSync(
      file,
      `${JSON.stringify({ s, rss: m.rss >> 20, heapTotal: m.heapTotal >> 20, heapUsed: m.heapUsed >> 20, external: m.external >> 20, arrayBuffers: m.arrayBuffers >> 20, spaces })}\n`,
    );
    if (!snapshotTaken && s >= snapshotAt) {
      snapshotTaken = true;
      appendFileSync(file, `${JSON.stringify({ snapshot: writeHeapSnapshot() })}\n`);
    }
  }, 1000);
  return { stop: () => clearInterval(timer) };
}

async function main(): Promise<void> {
  const opts = benchArgs(USAGE, {
    valueFlags: ['--in-flight', '--limit', '--replicas', '--database', '--idle-seconds'],
    switches: ['--no-npm-ci'],
  });
  const databaseUrl = opts.value('--database');
  const replicas = replicaCounts(USAGE, opts.value('--replicas'), databaseUrl);
  const inFlight = countList(USAGE, '--in-flight', opts.value('--in-flight'), []);
  const idleSeconds = Number(opts.value('--idle-seconds') ?? '0');
  // Warm-up (untimed): tarballs and packuments for the mirror; npm's cache inside timedNpmCi.
  const { lock, entries: all } = await loadLockfile(opts);
  const limit = opts.value('--limit');
  const entries = limit === undefined ? all : all.slice(0, Number(limit));
  const runs =
    inFlight.length > 0
      ? inFlight.map((n) => ({ replicas: 1, concurrency: n }))
      : replicas.map((n) => ({ replicas: n, concurrency: undefined }));
  await downloadPackuments(opts.work, [...new Set(entries.map((e) => e.name))]);
  const npm = process.argv.includes('--no-npm-ci') ? undefined : await timedNpmCi(opts.work, lock);
  const mirror = await startMirror(opts.work, entries);
  try {
    const peaks: string[] = [];
    for (const { replicas: count, concurrency } of runs) {
      const database = count > 1 ? freshDatabase(databaseUrl ?? '', 'sr_bench_pipeline') : undefined;
      try {
        const memory = await coldScan({
          opts,
          lock,
          entries,
          npm,
          mirrorUrl: mirror.url,
          replicas: count,
          concurrency,
          database,
          idleSeconds,
        });
        if (concurrency !== undefined)
          peaks.push(`${concurrency} in flight: ${mb(memory.peak)} (${mb(memory.start)} at the start)`);
      } finally {
        database?.drop();
      }
    }
    if (peaks.length > 1)
      process.stdout.write(`server peak RSS by artifacts in flight (flat: no growth): ${peaks.join('; ')}\n`);
  } finally {
    mirror.server.close();
  }
}

/** One cold scan of the lockfile from an empty state, on `replicas` servers; prints its report. */
async function coldScan(run: {
  opts: ReturnType<typeof benchArgs>;
  lock: Lockfile;
  entries: Entry[];
  npm: { ms: number; peak: number } | undefined;
  mirrorUrl: string;
  replicas: number;
  /** Artifacts the in-process server analyses at once (its `concurrency`); undefined: its default. */
  concurrency: number | undefined;
  database: FreshDatabase | undefined;
  idleSeconds: number;
}): Promise<{ peak: number; start: number }> {
  const { opts, lock, entries, npm } = run;
  const dataDir = await mkdtemp(join(tmpdir(), 'sr-bench-pipeline-'));
  const replicas = run.database
    ? await startReplicas({ count: run.replicas, databaseUrl: run.database.url, upstream: run.mirrorUrl })
    : undefined;
  // Idle first (issue 9): the replicas' transactions per second before anything is asked of them.
  const idle =
    replicas && run.database && run.idleSeconds > 0
      ? await idleTransactionsPerSecond(run.database, run.idleSeconds)
      : undefined;
  const rss = rssPeak(process.pid);
  const serverRss = sampleRss(process.pid);
  const memoryLog = detailedMemoryLog();
  const loadBefore = loadavg();
  const started = Date.now();
  const stages = new StageTimer(started);
  const server =
    replicas ??
    (await startServer({
      env: process.env,
      host: '127.0.0.1',
      port: 0,
      dataDir,
      upstream: run.mirrorUrl,
      auth: 'none',
      ...(run.concurrency !== undefined ? { concurrency: run.concurrency } : {}),
    }));
  try {
    const res = await fetch(`${server.url}/api/v1/scans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ graph: graphOf(lock, entries) }),
    });
    if (!res.ok) throw new Error(`POST /api/v1/scans: HTTP ${res.status} ${await res.text()}`);
    const { id } = (await res.json()) as { id: string };
    // The scan's event stream says when it is done (polling the whole scan would compete for the CPU);
    // with replicas, the stream of the last one (submitted to the first).
    await waitForCompletion(`${replicas?.urls.at(-1) ?? server.url}/api/v1/scans/${id}/events`, (event) =>
      stages.add(event),
    );
    const pipelineMs = Date.now() - started;
    const loadAfter = loadavg();
    const peak = rss.stop();
    const serverMemory = serverRss.stop();
    memoryLog?.stop();
    const scan = (await (await fetch(`${server.url}/api/v1/scans/${id}`)).json()) as ScanResult;

    // Per-phase facts from the stored reports.
    const perPhase = new Map<string, { ms: number[]; batched: number; isolated: number; deps: number[] }>();
    const reasons = new Map<string, number>();
    const decided: number[] = [];
    const sizes = new Map<string, Map<number, number>>();
    for (const p of scan.packages) {
      const stored = (await (
        await fetch(`${server.url}/api/v1/packages/${p.name}/${p.version}`)
      ).json()) as PackageVerdictResponse;
      if (stored.decidedAt) decided.push(Date.parse(stored.decidedAt) - started);
      for (const ph of phaseSummariesOf(readArtifactReports(stored.reports))) {
        const row = perPhase.get(ph.phase) ?? { ms: [], batched: 0, isolated: 0, deps: [] };
        row.ms.push(ph.durationMs);
        if ((ph.batch?.size ?? 1) > 1) row.batched++;
        const bySize = sizes.get(ph.phase) ?? new Map<number, number>();
        bySize.set(ph.batch?.size ?? 1, (bySize.get(ph.batch?.size ?? 1) ?? 0) + 1);
        sizes.set(ph.phase, bySize);
        if (ph.batch?.isolated) {
          row.isolated++;
          reasons.set(
            ph.batch.isolated.replace(/^\S+'s/, "a neighbour's"),
            (reasons.get(ph.batch.isolated) ?? 0) + 1,
          );
        }
        if (ph.dependencies?.present !== undefined) row.deps.push(ph.dependencies.present);
        perPhase.set(ph.phase, row);
      }
    }
    const states = new Map<string, number>();
    for (const p of scan.packages) states.set(p.state, (states.get(p.state) ?? 0) + 1);
    const held = scan.packages.filter((x) => x.state !== 'approved' && x.state !== 'rejected');
    const lines = [
      '',
      ...(npm
        ? [`npm ci (warm cache, --dangerously-allow-all-scripts): ${sec(npm.ms)}, peak RSS ${mb(npm.peak)}`]
        : []),
      ...(replicas ? await replicas.report() : []),
      ...(idle
        ? [
            `idle: ${idle.perSecond.toFixed(2)} database transactions/s over ${idle.seconds.toFixed(1)} s before the scan (${idle.transactions} in the window; goal <= 1/s)`,
          ]
        : []),
      `pipeline (cold: empty data dir; fetch from a loopback mirror, static, sandbox, rules): ${sec(pipelineMs)}, peak RSS ${mb(peak)} (bench process with the server + sandboxes)`,
      replicas
        ? `bench process peak RSS (the mirror; the replicas are processes of their own, not measured): ${mb(serverMemory.peak)}`
        : `server peak RSS (the bench process alone: server and mirror; VmHWM, reset when the scan starts${serverMemory.hwm === undefined ? ': not readable here, highest 200 ms sample' : ''}): ${mb(serverMemory.peak)}, ${mb(serverMemory.start)} before the server started, ${run.concurrency ?? 'default (1,024)'} artifacts in flight at most, node ${process.execArgv.join(' ') || '(no flags)'}`,
      `load average (1/5/15 min) at the start ${loadBefore.map((l) => l.toFixed(2)).join(' / ')}, at the end ${loadAfter.map((l) => l.toFixed(2)).join(' / ')} (${availableParallelism()} cores)`,
      ...(npm
        ? [
            `ratio pipeline / npm ci: ${(pipelineMs / npm.ms).toFixed(2)}x (goal <= 2x, issue 14; issue 9: no slower than 5.4x)`,
          ]
        : []),
      `verdicts: ${[...states].map(([s, n]) => `${n} ${s}`).join(', ')}`,
      `held per 1,000: ${((held.length * 1000) / scan.packages.length).toFixed(2)}`,
      '',
      'phase      runs  median ms  p90 ms  in a batch  run again alone',
    ];
    for (const [phase, row] of perPhase)
      lines.push(
        `${phase.padEnd(9)} ${String(row.ms.length).padStart(5)} ${quantile(row.ms, 0.5).toFixed(0).padStart(10)} ${quantile(row.ms, 0.9).toFixed(0).padStart(7)} ${String(row.batched).padStart(11)} ${String(row.isolated).padStart(16)}` +
          (row.deps.length > 0 ? `  (dependencies present: median ${quantile(row.deps, 0.5)})` : ''),
      );
    lines.push(
      '',
      ...stages.lines(Number(process.env.SR_SANDBOX_GRACE_MS ?? 3000)),
      'server RSS over the scan (highest sample per 10 s):',
      ...rssTimelineLines(serverMemory.timeline),
      '',
    );
    lines.push(
      `verdicts reached (s after start): ${[0.1, 0.5, 0.9, 0.99, 1]
        .map((q) => `${q * 100}% ${(quantile(decided, q === 1 ? 0.9999 : q) / 1000).toFixed(0)}`)
        .join(', ')}`,
    );
    for (const [phase, bySize] of sizes)
      lines.push(
        `  ${phase} batch sizes (size×packages): ${[...bySize]
          .sort((a, b) => b[0] - a[0])
          .map(([size, n]) => `${size}×${n}`)
          .join(' ')}`.slice(0, 240),
      );
    for (const [reason, n] of reasons) lines.push(`  run again alone, ${n}×: ${reason}`.slice(0, 200));
    for (const [title, list] of [
      ['rejected', scan.packages.filter((x) => x.state === 'rejected')],
      ['held (review, blocked, pending, error)', held],
    ] as const) {
      lines.push(`${title}: ${list.length}`);
      for (const p of list)
        lines.push(
          `  ${p.name}@${p.version}: ${p.state} — ${p.findings
            .filter((f) => f.severity !== 'info' && f.severity !== 'low')
            .map((f) => `${f.rule}/${f.severity}: ${f.message}`.slice(0, 160))
            .join('; ')}`.slice(0, 400),
        );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    if (opts.json)
      process.stdout.write(
        `${JSON.stringify({ replicas: run.replicas, concurrency: run.concurrency, serverStart: serverMemory.start, idle, npmMs: npm?.ms, pipelineMs, npmPeak: npm?.peak, pipelinePeak: peak, serverPeak: serverMemory.peak, loadBefore, loadAfter, stages: stages.rows(), states: Object.fromEntries(states), phases: Object.fromEntries([...perPhase].map(([k, v]) => [k, { runs: v.ms.length, median: quantile(v.ms, 0.5), batched: v.batched, isolated: v.isolated }])) })}\n`,
      );
    return { peak: serverMemory.peak, start: serverMemory.start };
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`pipeline-vs-npm-ci: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
