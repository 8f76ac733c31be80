// Bench: the whole product path on a real lockfile, cold — a scan submitted to secure-registry-server
// (in this process, SQLite, sandbox on), every artifact fetched, checked, analysed statically and in the
// sandbox (install with dependencies, import and browser batched), judged by the rules — side by side with
// a plain `npm ci` of the same lockfile, install scripts allowed. Both sides read from local copies: npm
// from its warm cache, the server from a loopback mirror of the packuments and tarballs. See bench/README.md.
// Usage: node bench/dist/pipeline-vs-npm-ci.js [lockfile] [--work DIR] [--json] [--no-npm-ci]
//        [--replicas N --database postgres://…] [--limit N]
// (--replicas: N server processes on one fresh PostgreSQL schema instead of the in-process server
// (./replicas.ts), printing whether every artifact was analysed exactly once; --limit: scan only the
// first N packages of the lockfile, npm ci still installs all of them)
// (--no-npm-ci: verdicts only, no baseline — e.g. bench/lockfiles/popular.package-lock.json, whose goal
// is no rejection and at most 1 held per 1,000; every rejected and held package is listed)
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '@secure-registry/server';
import type { DependencyGraph, PackageVerdictResponse, ScanEvent, ScanResult } from '@secure-registry/shared';
import { phaseSummariesOf, readArtifactReports } from '@secure-registry/shared';
import { graphFromLockfileData, SseParser } from '@secure-registry/cli';
import {
  benchArgs,
  eachLimited,
  loadLockfile,
  mb,
  quantile,
  REGISTRY,
  rssPeak,
  sec,
  tarballFile,
  timedNpmCi,
  type Entry,
  type Lockfile,
} from './lockfile-bench.js';
import { startReplicas } from './replicas.js';
import { rssTimelineLines, sampleRss, StageTimer } from './stage-timing.js';

const packumentFile = (work: string, name: string): string =>
  join(work, 'packuments', `${encodeURIComponent(name)}.json`);

/** Full packuments of every package name, downloaded once (the server reads times and maintainers). */
async function downloadPackuments(work: string, names: string[]): Promise<void> {
  await mkdir(join(work, 'packuments'), { recursive: true });
  const missing = names.filter((n) => !existsSync(packumentFile(work, n)));
  await eachLimited(missing, 8, async (name) => {
    const res = await fetch(`${REGISTRY}/${name.replace('/', '%2f')}`, {
      headers: { accept: 'application/json' },
    });
    if (!res.ok) throw new Error(`${name}: HTTP ${res.status}`);
    await writeFile(packumentFile(work, name), await res.text());
  });
}

/**
 * A loopback mirror: the stored packuments with tarball URLs pointing at itself (rewritten once, before the
 * clock starts, into files it serves as they are: this process also holds the server whose memory is
 * measured), and the stored tarballs. Names it has no packument for (say, optional dependencies for other
 * platforms) are 404, as a registry that does not know them.
 */
async function startMirror(work: string, entries: Entry[]): Promise<{ url: string; server: Server }> {
  const tarballs = new Map<string, string>();
  for (const e of entries) tarballs.set(`${e.name}@${e.version}`, tarballFile(work, e));
  const packuments = new Map<string, string>();
  const server = createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
      const t = /^\/-\/t\/(.+)@([^@/]+)\.tgz$/.exec(path);
      if (t) {
        const file = tarballs.get(`${t[1]}@${t[2]}`);
        if (!file) return void res.writeHead(404).end();
        return void res
          .writeHead(200, { 'content-type': 'application/octet-stream' })
          .end(await readFile(file));
      }
      const file = packuments.get(path.slice(1));
      if (file === undefined)
        return void res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
      res.writeHead(200, { 'content-type': 'application/json' }).end(await readFile(file));
    })().catch((error: unknown) => res.writeHead(500).end(String(error)));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await rm(join(work, 'mirror'), { recursive: true, force: true });
  await mkdir(join(work, 'mirror'), { recursive: true });
  for (const name of new Set(entries.map((e) => e.name))) {
    const packument = JSON.parse(await readFile(packumentFile(work, name), 'utf8')) as {
      versions?: Record<string, { dist?: { tarball?: string } }>;
    };
    for (const [version, manifest] of Object.entries(packument.versions ?? {}))
      if (manifest.dist) manifest.dist.tarball = `${base}/-/t/${name}@${version}.tgz`;
    const file = join(work, 'mirror', `${encodeURIComponent(name)}.json`);
    await writeFile(file, JSON.stringify(packument));
    packuments.set(name, file);
  }
  return { url: base, server };
}

/** The lockfile's graph as `scan` submits it, without the packages npm ci skips on this platform. */
function graphOf(lock: Lockfile, entries: Entry[]): DependencyGraph {
  const graph = graphFromLockfileData(lock as Record<string, unknown>);
  const keep = new Set(entries.map((e) => e.path));
  const nodes = graph.nodes.filter((n) => keep.has(n.key));
  return {
    ...graph,
    nodes,
    edges: graph.edges.filter((e) => keep.has(e.to) && (e.from === '' || keep.has(e.from))),
  };
}

async function waitForCompletion(url: string, onEvent: (event: ScanEvent) => void): Promise<void> {
  const res = await fetch(url, { headers: { accept: 'text/event-stream' } });
  if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
  const parser = new SseParser();
  const decoder = new TextDecoder();
  for await (const chunk of res.body as AsyncIterable<Uint8Array>)
    for (const message of parser.push(decoder.decode(chunk, { stream: true }))) {
      if (message.data) onEvent(JSON.parse(message.data) as ScanEvent);
      if (message.event === 'scan.completed') {
        await res.body.cancel().catch(() => undefined);
        return;
      }
    }
  throw new Error(`${url}: the stream ended before the scan completed`);
}

async function main(): Promise<void> {
  const opts = benchArgs();
  // Warm-up (untimed): tarballs and packuments for the mirror; npm's cache inside timedNpmCi.
  const { lock, entries: all } = await loadLockfile(opts);
  const limit = opts.value('--limit');
  const entries = limit === undefined ? all : all.slice(0, Number(limit));
  const replicaCount = Number(opts.value('--replicas') ?? '1');
  await downloadPackuments(opts.work, [...new Set(entries.map((e) => e.name))]);
  const npm = process.argv.includes('--no-npm-ci') ? undefined : await timedNpmCi(opts.work, lock);
  const databaseUrl = opts.value('--database');
  if (replicaCount > 1 && databaseUrl === undefined)
    throw new Error('--replicas needs --database postgres://…');

  const mirror = await startMirror(opts.work, entries);
  const dataDir = await mkdtemp(join(tmpdir(), 'sr-bench-pipeline-'));
  const rss = rssPeak(process.pid);
  const serverRss = sampleRss(process.pid);
  const loadBefore = loadavg();
  const started = Date.now();
  const stages = new StageTimer(started);
  const replicas =
    replicaCount > 1
      ? await startReplicas({ count: replicaCount, databaseUrl: databaseUrl ?? '', upstream: mirror.url })
      : undefined;
  const server =
    replicas ??
    (await startServer({
      env: process.env,
      host: '127.0.0.1',
      port: 0,
      dataDir,
      upstream: mirror.url,
      auth: 'none',
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
      `pipeline (cold: empty data dir; fetch from a loopback mirror, static, sandbox, rules): ${sec(pipelineMs)}, peak RSS ${mb(peak)} (bench process with the server + sandboxes)`,
      `server peak RSS (the bench process alone: server and mirror, sampled every 200 ms): ${mb(serverMemory.peak)}`,
      `load average (1/5/15 min) at the start ${loadBefore.map((l) => l.toFixed(2)).join(' / ')}, at the end ${loadAfter.map((l) => l.toFixed(2)).join(' / ')} (${availableParallelism()} cores)`,
      ...(npm ? [`ratio pipeline / npm ci: ${(pipelineMs / npm.ms).toFixed(2)}x (goal <= 3x)`] : []),
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
        `${JSON.stringify({ npmMs: npm?.ms, pipelineMs, npmPeak: npm?.peak, pipelinePeak: peak, serverPeak: serverMemory.peak, loadBefore, loadAfter, stages: stages.rows(), states: Object.fromEntries(states), phases: Object.fromEntries([...perPhase].map(([k, v]) => [k, { runs: v.ms.length, median: quantile(v.ms, 0.5), batched: v.batched, isolated: v.isolated }])) })}\n`,
      );
  } finally {
    await server.close();
    mirror.server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`pipeline-vs-npm-ci: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
