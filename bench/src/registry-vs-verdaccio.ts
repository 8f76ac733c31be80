/**
 * The vetted registry against Verdaccio, same artifacts, both warm, both on 127.0.0.1, in one run:
 * packument and tarball requests/second and p99 latency under concurrent load (autocannon), and
 * `npm ci` of a ~400-package lockfile through each. Prints the ratios (goal: ≥ 3× Verdaccio's
 * throughput, `npm ci` ≤ 0.9×). `--replicas 1,2` runs once per count: 1 is one server on SQLite,
 * N > 1 is N replicas on a fresh PostgreSQL database (`--database`, dropped at the end) sharing one
 * artifact directory, behind a round-robin TCP proxy (./round-robin-proxy.ts); Verdaccio is then
 * measured through the same kind of proxy too. `--cpu-prof DIR` writes the servers' CPU profiles.
 * Usage: node bench/dist/registry-vs-verdaccio.js [--packages N] [--duration S] [--connections C]
 *   [--ci-runs N] [--replicas 1,2] [--database postgres://…] [--cpu-prof DIR] [--skip-load] [--json]
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine, replicaCounts } from './cli-args.js';
import autocannon from 'autocannon';
import { startFixtureRegistry } from '@secure-registry/e2e/fixture-registry';
import type { FixturePackage, FixtureRegistry } from '@secure-registry/e2e/fixture-registry';
import { measure, median } from './measure.js';
import { freshDatabase } from './pg-stats.js';
import { startReplicas } from './replicas.js';
import type { Replicas } from './replicas.js';
import { startRoundRobinProxy } from './round-robin-proxy.js';

const USAGE =
  'registry-vs-verdaccio.js [--packages 400] [--duration 5] [--connections 32] [--ci-runs 3] [--replicas 1[,2…]] [--database postgres://…] [--cpu-prof DIR] [--skip-load] [--json]';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_BIN = path.join(REPO_ROOT, 'packages', 'server', 'dist', 'main.js');
const VERDACCIO_BIN = path.join(
  path.dirname(createRequire(import.meta.url).resolve('verdaccio/package.json')),
  'bin',
  'verdaccio',
);
const NPM_ACCEPT = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith('npm_') && !key.startsWith('SECURE_REGISTRY_')) env[key] = value;
  }
  return { ...env, ...extra };
}

/** `count` small packages; package i depends on 2i+1 and 2i+2, so the root's one dependency pulls all. */
export function generatePackages(count: number): FixturePackage[] {
  const name = (i: number) => `bench-pkg-${String(i).padStart(4, '0')}`;
  return Array.from({ length: count }, (_, i) => {
    const dependencies: Record<string, string> = {};
    for (const child of [2 * i + 1, 2 * i + 2]) if (child < count) dependencies[name(child)] = '^1.0.0';
    return {
      manifest: { name: name(i), version: '1.0.0', main: 'index.js', license: 'MIT', dependencies },
      files: {
        'index.js': `'use strict';\nmodule.exports = function id() { return ${JSON.stringify(name(i))}; };\n`,
        'README.md': `# ${name(i)}\n\nA generated benchmark package.\n`,
      },
    };
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitFor(url: string, child: ChildProcess, output: () => string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${url}: the process exited (${child.exitCode}):\n${output()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer in ${timeoutMs} ms:\n${output()}`);
}

interface Running {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

function spawnServer(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; output: () => string } {
  const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: string) => (output = (output + chunk).slice(-20_000));
  child.stdout!.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  return { child, output: () => output };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function startSecureRegistry(
  work: string,
  upstream: string,
  env: Record<string, string> = {},
): Promise<Running> {
  const port = await freePort();
  const { child, output } = spawnServer(
    process.execPath,
    [SERVER_BIN],
    cleanEnv({
      SR_HOST: '127.0.0.1',
      SR_PORT: String(port),
      SR_AUTH: 'none',
      SR_DATA_DIR: path.join(work, 'secure-registry'),
      SR_UPSTREAM_REGISTRY: upstream,
      SR_SANDBOX: 'off',
      SR_LOG_LEVEL: 'warn',
      ...env,
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/-/ping`, child, output);
  return { url, child, stop: () => stop(child) };
}

async function startVerdaccio(work: string, upstream: string): Promise<Running> {
  const port = await freePort();
  const dir = path.join(work, 'verdaccio');
  await mkdir(dir, { recursive: true });
  // maxage 30m: within the run Verdaccio answers from its cache, as a warm mirror would.
  const config = [
    `storage: ${JSON.stringify(path.join(dir, 'storage'))}`,
    `plugins: ${JSON.stringify(path.join(dir, 'plugins'))}`,
    'web:',
    '  enable: false',
    'auth:',
    '  htpasswd:',
    `    file: ${JSON.stringify(path.join(dir, 'htpasswd'))}`,
    '    max_users: -1',
    'uplinks:',
    '  fixture:',
    `    url: ${JSON.stringify(`${upstream}/`)}`,
    '    maxage: 30m',
    '    cache: true',
    'packages:',
    "  '@*/*':",
    '    access: $all',
    '    proxy: fixture',
    "  '**':",
    '    access: $all',
    '    proxy: fixture',
    'server:',
    '  keepAliveTimeout: 60',
    'log: { type: stdout, format: pretty, level: error }',
    '',
  ].join('\n');
  await writeFile(path.join(dir, 'config.yaml'), config);
  const { child, output } = spawnServer(
    process.execPath,
    [VERDACCIO_BIN, '--config', path.join(dir, 'config.yaml'), '--listen', `127.0.0.1:${port}`],
    cleanEnv(),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/-/ping`, child, output);
  return { url, child, stop: () => stop(child) };
}

/** Approves every fixture version through a real scan on the secure-registry server. */
async function vetAll(server: string, upstream: FixtureRegistry): Promise<void> {
  const nodes = upstream.packages().map((v) => ({
    key: `node_modules/${v.name}`,
    name: v.name,
    version: v.version,
    integrity: v.integrity,
    source: 'registry',
  }));
  const graph = { root: { name: 'bench' }, nodes, edges: nodes.map((n) => ({ from: '', to: n.key })) };
  const created = (await (
    await fetch(`${server}/api/v1/scans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ graph, label: 'bench' }),
    })
  ).json()) as { id: string };
  for (;;) {
    const scan = (await (await fetch(`${server}/api/v1/scans/${created.id}`)).json()) as {
      status: string;
      counts: Record<string, number>;
    };
    if (scan.status !== 'running') {
      if (scan.counts.approved !== nodes.length) {
        throw new Error(`expected every package approved, got ${JSON.stringify(scan.counts)}`);
      }
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function tarballPath(name: string, version: string): string {
  const bare = name.startsWith('@') ? name.slice(name.indexOf('/') + 1) : name;
  return `/${name}/-/${bare}-${version}.tgz`;
}

/** One full fetch of every packument and tarball; fails when any answer is not 200. */
async function warm(registry: string, upstream: FixtureRegistry): Promise<void> {
  for (const v of upstream.packages()) {
    for (const [p, accept] of [
      [`/${v.name}`, NPM_ACCEPT],
      [`/${v.name}`, 'application/json'],
      [tarballPath(v.name, v.version), '*/*'],
    ] as const) {
      const response = await fetch(`${registry}${p}`, { headers: { accept } });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`warm-up: ${registry}${p} answered ${response.status}`);
    }
  }
}

interface LoadResult {
  rps: number;
  p99: number;
  p50: number;
  errors: number;
  non2xx: number;
}

async function load(
  url: string,
  paths: string[],
  options: { duration: number; connections: number },
): Promise<LoadResult> {
  const result = await autocannon({
    url,
    connections: options.connections,
    duration: options.duration,
    requests: paths.map((p) => ({ method: 'GET', path: p, headers: { accept: NPM_ACCEPT } })),
  });
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    p50: result.latency.p50,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/**
 * npm with an empty user config (`<project>/../npmrc`): the machine's ~/.npmrc (for example
 * `omit-lockfile-registry-resolved`, which makes `npm ci` fetch every packument) stays out.
 */
function npmEnv(projectDir: string): NodeJS.ProcessEnv {
  return cleanEnv({
    npm_config_userconfig: path.join(projectDir, '..', 'npmrc'),
    npm_config_update_notifier: 'false',
  });
}

async function makeLockedProject(dir: string, upstream: string, root: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, '..', 'npmrc'), '');
  await writeFile(
    path.join(dir, 'package.json'),
    `${JSON.stringify({ name: 'bench-project', version: '1.0.0', private: true, dependencies: { [root]: '1.0.0' } }, null, 2)}\n`,
  );
  const result = await measure(
    'npm',
    [
      'install',
      '--package-lock-only',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--registry',
      `${upstream}/`,
      '--cache',
      path.join(dir, '..', 'lock-cache'),
    ],
    { cwd: dir, env: npmEnv(dir) },
  );
  if (result.code !== 0) throw new Error(`npm install --package-lock-only failed:\n${result.stderr}`);
}

async function npmCi(dir: string, registry: string, work: string): Promise<number> {
  await rm(path.join(dir, 'node_modules'), { recursive: true, force: true });
  const cache = await mkdtemp(path.join(work, 'npm-cache-'));
  const result = await measure(
    'npm',
    [
      'ci',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--registry',
      `${registry}/`,
      '--replace-registry-host=always',
      '--cache',
      cache,
      '--fetch-retries=0',
    ],
    { cwd: dir, env: npmEnv(dir) },
  );
  await rm(cache, { recursive: true, force: true });
  if (result.code !== 0) throw new Error(`npm ci through ${registry} failed:\n${result.stderr.slice(-3000)}`);
  return result.wallMs;
}

const fmt = (n: number, digits = 0) => n.toFixed(digits);
const loadAverage = () =>
  os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');

/** What clients of one run talk to: a single server, or replicas behind the round-robin proxy. */
interface Deployment {
  replicas: number;
  /** The address clients use. */
  url: string;
  /** Every server process (warmed one by one: each has its own in-memory caches). */
  backends: string[];
  report(): Promise<string[]>;
  stop(): Promise<void>;
}

async function startDeployment(input: {
  replicas: number;
  work: string;
  upstream: string;
  databaseUrl: string | undefined;
  cpuProfileDir: string | undefined;
}): Promise<Deployment> {
  const profileEnv: Record<string, string> = input.cpuProfileDir
    ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${input.cpuProfileDir}` }
    : {};
  if (input.replicas === 1) {
    const sr = await startSecureRegistry(input.work, input.upstream, profileEnv);
    return { replicas: 1, url: sr.url, backends: [sr.url], report: async () => [], stop: sr.stop };
  }
  if (!input.databaseUrl) throw new Error('--replicas above 1 needs --database postgres://…');
  const database = freshDatabase(input.databaseUrl, 'bench_registry');
  let replicas: Replicas | undefined;
  try {
    replicas = await startReplicas({
      count: input.replicas,
      databaseUrl: database.url,
      upstream: input.upstream,
      sharedArtifacts: true,
      env: { SR_SANDBOX: 'off', ...profileEnv },
    });
    const proxy = await startRoundRobinProxy(replicas.urls);
    const started = replicas;
    return {
      replicas: input.replicas,
      url: proxy.url,
      backends: started.urls,
      report: () => started.report(),
      async stop() {
        await proxy.stop();
        await started.close();
        database.drop();
      },
    };
  } catch (error) {
    await replicas?.close();
    database.drop();
    throw error;
  }
}

interface Target {
  label: string;
  url: string;
}

interface RunResult {
  replicas: number;
  loadBefore: string;
  loadAfter: string;
  load: Record<string, Record<string, LoadResult>>;
  npmCi: Record<string, number[]>;
  /** [secure-registry label, Verdaccio label, which is the goal's] per ratio printed. */
  pairs: { sr: string; verdaccio: string; goal: boolean }[];
  lines: string[];
}

async function runOne(input: {
  replicas: number;
  work: string;
  upstream: FixtureRegistry;
  verdaccio: Running;
  project: string;
  options: { duration: number; connections: number; ciRuns: number; skipLoad: boolean };
  databaseUrl: string | undefined;
  cpuProfileDir: string | undefined;
  log: (line: string) => void;
}): Promise<RunResult> {
  const { upstream, verdaccio, log, options } = input;
  const loadBefore = loadAverage();
  const deployment = await startDeployment({
    replicas: input.replicas,
    work: path.join(input.work, `run-${input.replicas}`),
    upstream: upstream.url,
    databaseUrl: input.databaseUrl,
    cpuProfileDir: input.cpuProfileDir,
  });
  // Replicas are reached through the proxy; so is Verdaccio then, through a proxy of the same kind.
  const verdaccioProxy = input.replicas > 1 ? await startRoundRobinProxy([verdaccio.url]) : undefined;
  try {
    const srLabel = input.replicas > 1 ? `secure-registry ×${input.replicas} via proxy` : 'secure-registry';
    const targets: Target[] = [{ label: 'verdaccio', url: verdaccio.url }];
    if (verdaccioProxy) targets.push({ label: 'verdaccio via proxy', url: verdaccioProxy.url });
    targets.push({ label: srLabel, url: deployment.url });
    const pairs = verdaccioProxy
      ? [
          { sr: srLabel, verdaccio: 'verdaccio via proxy', goal: true },
          { sr: srLabel, verdaccio: 'verdaccio', goal: false },
        ]
      : [{ sr: srLabel, verdaccio: 'verdaccio', goal: true }];
    log(`${srLabel}: ${deployment.backends.join(', ')}${verdaccioProxy ? ` behind ${deployment.url}` : ''}`);
    log('approving every package with a scan (static analysis)…');
    await vetAll(deployment.url, upstream);
    log('warming (every packument and tarball once, each server process)…');
    for (const backend of deployment.backends) await warm(backend, upstream);
    await warm(deployment.url, upstream);
    await warm(verdaccio.url, upstream);

    const packuments = upstream.packages().map((v) => `/${v.name}`);
    const tarballs = upstream.packages().map((v) => tarballPath(v.name, v.version));
    const results: Record<string, Record<string, LoadResult>> = { packument: {}, tarball: {} };
    for (const [kind, paths] of options.skipLoad
      ? []
      : ([
          ['packument', packuments],
          ['tarball', tarballs],
        ] as const)) {
      for (const target of targets) {
        log(`${kind}: ${target.label}, ${options.connections} connections, ${options.duration} s…`);
        results[kind]![target.label] = await load(target.url, paths, options);
      }
    }

    // npm ci through the goal's pair: the same kind of address for both.
    const ciPair = pairs.find((pair) => pair.goal)!;
    const ciTargets = targets.filter((t) => t.label === ciPair.sr || t.label === ciPair.verdaccio);
    const ciTimes: Record<string, number[]> = Object.fromEntries(ciTargets.map((t) => [t.label, []]));
    log(`npm ci, ${options.ciRuns} runs each, alternating order (fresh npm cache each run)…`);
    // Untimed, one each: file-system cache, npm's own start-up files.
    for (const target of ciTargets) await npmCi(input.project, target.url, input.work);
    // ABBA order: neither registry always runs second (warmer page cache, quieter machine).
    for (let i = 0; i < options.ciRuns; i++) {
      for (const target of i % 2 === 0 ? ciTargets : [...ciTargets].reverse()) {
        ciTimes[target.label]!.push(await npmCi(input.project, target.url, input.work));
      }
    }

    const lines: string[] = [
      `— ${input.replicas === 1 ? '1 server (SQLite)' : `${input.replicas} replicas (PostgreSQL, one shared artifact directory) behind a round-robin TCP proxy`}; load average before ${loadBefore}`,
    ];
    for (const kind of options.skipLoad ? [] : (['packument', 'tarball'] as const)) {
      for (const pair of pairs) {
        const v = results[kind]![pair.verdaccio]!;
        const s = results[kind]![pair.sr]!;
        lines.push(
          `${kind.padEnd(9)} req/s  ${pair.verdaccio} ${fmt(v.rps)}  ${pair.sr} ${fmt(s.rps)}  ratio ${fmt(s.rps / v.rps, 2)}×${pair.goal ? ' (goal ≥ 3×)' : ' (not the goal: different hops)'}`,
          `${''.padEnd(9)} p99 ms ${fmt(v.p99)} / ${fmt(s.p99)}  (p50 ${fmt(v.p50)} / ${fmt(s.p50)})  errors ${v.errors + v.non2xx} / ${s.errors + s.non2xx}`,
        );
      }
    }
    const vCi = median(ciTimes[ciPair.verdaccio]!);
    const sCi = median(ciTimes[ciPair.sr]!);
    lines.push(
      `npm ci    median ms  ${ciPair.verdaccio} ${fmt(vCi)}  ${ciPair.sr} ${fmt(sCi)}  ratio ${fmt(sCi / vCi, 2)}× (goal ≤ 0.9×)`,
      `          runs ms  ${ciPair.verdaccio} ${ciTimes[ciPair.verdaccio]!.map((n) => fmt(n)).join(' / ')}; ${ciPair.sr} ${ciTimes[ciPair.sr]!.map((n) => fmt(n)).join(' / ')}`,
      ...(await deployment.report()),
    );
    const loadAfter = loadAverage();
    lines.push(`load average after ${loadAfter}`);
    return { replicas: input.replicas, loadBefore, loadAfter, load: results, npmCi: ciTimes, pairs, lines };
  } finally {
    await verdaccioProxy?.stop();
    await deployment.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseCommandLine(USAGE, {
    options: {
      packages: { type: 'string', default: '400' },
      duration: { type: 'string', default: '5' },
      connections: { type: 'string', default: '32' },
      'ci-runs': { type: 'string', default: '3' },
      replicas: { type: 'string', default: '1' },
      database: { type: 'string' },
      'cpu-prof': { type: 'string' },
      json: { type: 'boolean', default: false },
      'skip-load': { type: 'boolean', default: false },
    },
  });
  const count = Number(values.packages);
  const replicas = replicaCounts(USAGE, values.replicas, values.database);
  const options = {
    duration: Number(values.duration),
    connections: Number(values.connections),
    ciRuns: Number(values['ci-runs']),
    skipLoad: values['skip-load'],
  };
  const cpuProfileDir = values['cpu-prof'] ? path.resolve(values['cpu-prof']) : undefined;
  if (cpuProfileDir) await mkdir(cpuProfileDir, { recursive: true });
  const work = await mkdtemp(path.join(os.tmpdir(), 'sr-bench-registry-'));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let upstream: FixtureRegistry | undefined;
  let verdaccio: Running | undefined;
  try {
    log(`generating and packing ${count} packages…`);
    upstream = await startFixtureRegistry({ packages: generatePackages(count) });
    verdaccio = await startVerdaccio(work, upstream.url);
    log(`verdaccio ${verdaccio.url}, upstream ${upstream.url}`);
    const names = upstream.packages().map((v) => v.name);
    const project = path.join(work, 'project');
    await makeLockedProject(project, upstream.url, names[0]!);
    const lock = JSON.parse(await readFile(path.join(project, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { resolved?: string }>;
    };
    const lockCount = Object.keys(lock.packages).length - 1;
    const withUrl = Object.values(lock.packages).filter((p) => p.resolved?.startsWith('http')).length;
    log(`lockfile: ${lockCount} packages, ${withUrl} with a resolved URL at the upstream`);
    const runs: RunResult[] = [];
    for (const count of replicas) {
      runs.push(
        await runOne({
          replicas: count,
          work,
          upstream,
          verdaccio,
          project,
          options,
          databaseUrl: values.database,
          cpuProfileDir,
          log,
        }),
      );
    }
    const lines = [
      `registry-vs-verdaccio: ${count} packages (npm ci of ${lockCount}), ${options.connections} connections × ${options.duration} s, 127.0.0.1`,
      ...runs.flatMap((run) => run.lines),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (values.json) {
      const json = runs.map(({ lines: _lines, ...run }) => run);
      process.stdout.write(`${JSON.stringify({ count, lockCount, ...options, runs: json })}\n`);
    }
  } finally {
    await verdaccio?.stop();
    await upstream?.close();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
