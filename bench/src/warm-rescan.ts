/**
 * Warm re-scan benchmark: `secure-registry scan` of a vetted 1,274-package lockfile (every verdict
 * cached) against `npm ls --all --package-lock-only` on the npm/cli lockfile, in the same run; the
 * scanned lockfile may be a pnpm-lock.yaml or a yarn.lock (`npm ls` then still reads the npm/cli one),
 * and `--hosted` also times the scan against a server already running.
 * Usage: node bench/dist/warm-rescan.js [--runs N] [--lockfile PATH] [--baseline-lockfile PATH]
 *        [--upstream URL] [--work DIR] [--fresh] [--fill-sandbox] [--hosted]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { loadavg } from 'node:os';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measure, median } from './measure.js';
import type { Measurement } from './measure.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI_BIN = path.join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');
const SERVER_BIN = path.join(REPO_ROOT, 'packages', 'server', 'dist', 'main.js');
const DEFAULT_LOCKFILE = path.join(REPO_ROOT, 'fixtures', 'lockfiles', 'npm-cli-v3.package-lock.json');
const GOAL_RATIO = 1.0;
const HOSTED_GOAL_RATIO = 0.5;

interface ScanJson {
  packages?: { name: string; version: string; state?: string; verdict?: string }[];
}

function cleanEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith('npm_') && !key.startsWith('SECURE_REGISTRY_')) env[key] = value;
  }
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) env[key] = value;
  return env;
}

/** The npm CLI's JavaScript entry, so npm runs on the same Node as secure-registry. */
function findNpmCli(): string[] {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'npm');
    if (!dir || !existsSync(candidate)) continue;
    const real = realpathSync(candidate);
    return real.endsWith('.js') ? [process.execPath, real] : [real];
  }
  throw new Error('npm not found on PATH');
}

/** Which file a lockfile is, by its name: npm's is the default. */
function lockfileKind(file: string): 'npm' | 'pnpm' | 'yarn' {
  const base = path.basename(file);
  if (base.endsWith('pnpm-lock.yaml')) return 'pnpm';
  if (base.endsWith('yarn.lock')) return 'yarn';
  return 'npm';
}

/**
 * Writes the project: an npm lockfile with its root entry as package.json; a pnpm or Yarn lockfile
 * alone under its own name (their readers take the workspace list from the lockfile). Returns the
 * number of entries.
 */
async function prepareProject(lockfile: string, dir: string): Promise<number> {
  const kind = lockfileKind(lockfile);
  if (kind !== 'npm') {
    const text = await readFile(lockfile, 'utf8');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, kind === 'pnpm' ? 'pnpm-lock.yaml' : 'yarn.lock'), text);
    // Packages: pnpm's `packages:` keys, Yarn's entries resolved from the npm registry.
    return kind === 'pnpm'
      ? (/^packages:\n([\s\S]*?)^\S/m.exec(text)?.[1]?.match(/^ {2}\S/gm)?.length ?? 0)
      : (text.match(/^ {2}resolution: "[^"]*@npm:/gm)?.length ?? 0);
  }
  const text = await readFile(lockfile, 'utf8');
  const lock = JSON.parse(text) as { packages?: Record<string, Record<string, unknown>> };
  const root = lock.packages?.[''];
  if (!root) throw new Error(`${lockfile}: not a lockfileVersion 2/3 package-lock.json`);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'package-lock.json'), text);
  // The root entry of a v3 lockfile carries the root manifest's dependency fields.
  await writeFile(path.join(dir, 'package.json'), `${JSON.stringify(root, null, 2)}\n`);
  return Object.keys(lock.packages ?? {}).length - 1;
}

function summarizeScan(result: Measurement): { total: number; states: Record<string, number> } {
  const json = JSON.parse(result.stdout) as ScanJson;
  const states: Record<string, number> = {};
  for (const pkg of json.packages ?? []) {
    const state = pkg.state ?? pkg.verdict ?? 'unknown';
    states[state] = (states[state] ?? 0) + 1;
  }
  return { total: json.packages?.length ?? 0, states };
}

/** `secure-registry-server` as a process on the fill's data directory (what hosted mode talks to). */
async function startHostedServer(
  dataDir: string,
  upstream: string | undefined,
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [SERVER_BIN], {
    env: cleanEnv({
      SR_DATA_DIR: dataDir,
      SR_PORT: '0',
      SR_HOST: '127.0.0.1',
      SR_AUTH: 'none',
      SR_SANDBOX: 'off',
      SR_LOG_LEVEL: 'info',
      ...(upstream ? { SR_UPSTREAM_REGISTRY: upstream } : {}),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const look = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[^\s"]+)/.exec(output);
      if (match) resolve(match[1] as string);
    };
    child.stdout?.on('data', look);
    child.stderr?.on('data', look);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output.slice(-2000)}`)));
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return { url, child };
}

function fmtMs(ms: number): string {
  return `${ms.toFixed(0).padStart(6)} ms`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '7' },
      lockfile: { type: 'string', default: DEFAULT_LOCKFILE },
      'baseline-lockfile': { type: 'string', default: DEFAULT_LOCKFILE },
      hosted: { type: 'boolean', default: false },
      upstream: { type: 'string' },
      work: { type: 'string', default: path.join(REPO_ROOT, 'bench', '.data', 'warm-rescan') },
      fresh: { type: 'boolean', default: false },
      'fill-sandbox': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');
  if (!existsSync(CLI_BIN)) throw new Error(`${CLI_BIN} is missing: build first (npx tsc -b packages/cli)`);
  const work = path.resolve(values.work);
  if (values.fresh) await rm(work, { recursive: true, force: true });
  const project = path.join(work, 'project');
  const entries = await prepareProject(path.resolve(values.lockfile), project);
  // npm ls reads an npm lockfile: the scanned one, or the baseline's when the scan reads pnpm's or Yarn's.
  const baselineLockfile =
    lockfileKind(values.lockfile) === 'npm' ? values.lockfile : values['baseline-lockfile'];
  if (lockfileKind(baselineLockfile) !== 'npm')
    throw new Error('--baseline-lockfile must be an npm lockfile');
  const lsProject = lockfileKind(values.lockfile) === 'npm' ? project : path.join(work, 'npm-ls-project');
  const lsEntries =
    lsProject === project ? entries : await prepareProject(path.resolve(baselineLockfile), lsProject);
  const cliEnv = cleanEnv({
    CI: '1',
    NO_COLOR: '1',
    SECURE_REGISTRY_DATA_DIR: path.join(work, 'data'),
    SECURE_REGISTRY_CONFIG_DIR: path.join(work, 'config'),
  });
  const cliArgs = [
    CLI_BIN,
    'scan',
    project,
    '--json',
    ...(values.upstream ? ['--upstream', values.upstream] : []),
  ];
  const npm = findNpmCli();
  const npmArgs = [...npm.slice(1), 'ls', '--all', '--package-lock-only'];
  // The fill runs the static stage only unless --fill-sandbox: the sandbox takes seconds per
  // artifact, hours for this lockfile on two cores. The timed runs use the default configuration.
  const fillEnv = { ...cliEnv, SR_SANDBOX: values['fill-sandbox'] ? 'on' : 'off' };
  const runFill = (): Promise<Measurement> =>
    measure(process.execPath, cliArgs, { cwd: project, env: fillEnv });
  const runCli = (): Promise<Measurement> =>
    measure(process.execPath, cliArgs, { cwd: project, env: cliEnv });
  // The same scan through the in-process server (the warm cache off), for comparison.
  const runCliServer = (): Promise<Measurement> =>
    measure(process.execPath, cliArgs, {
      cwd: project,
      env: { ...cliEnv, SECURE_REGISTRY_SCAN_CACHE: 'off' },
    });
  const runNpmLs = (): Promise<Measurement> =>
    measure(npm[0]!, npmArgs, { cwd: lsProject, env: cleanEnv({ npm_config_update_notifier: 'false' }) });
  // Hosted mode: the CLI talks to a server already running on the same data (config and cache dirs
  // of its own, so the local-mode cache is not what answers).
  const hostedEnv = (url: string): NodeJS.ProcessEnv =>
    cleanEnv({
      CI: '1',
      NO_COLOR: '1',
      SECURE_REGISTRY_SERVER: url,
      SECURE_REGISTRY_DATA_DIR: path.join(work, 'hosted-client-data'),
      SECURE_REGISTRY_CONFIG_DIR: path.join(work, 'hosted-client-config'),
    });
  const hostedArgs = [CLI_BIN, 'scan', project, '--json'];

  console.log(`lockfile: ${values.lockfile} (${entries} entries)`);
  console.log(`npm ls baseline: ${baselineLockfile} (${lsEntries} entries)`);
  console.log(
    `upstream: ${values.upstream ?? 'the npm client’s configured registry (default https://registry.npmjs.org)'}`,
  );
  console.log(`node: ${process.execPath} ${process.version}; npm: ${npm.join(' ')}`);

  console.log('\nfill: scanning once so every verdict is stored (cold the first time; can take minutes)…');
  const fill = await runFill();
  if (fill.code === null || fill.code > 2) {
    console.error(
      `fill scan failed with exit ${fill.code} (${fill.signal ?? ''}):\n${fill.stderr.slice(-4000)}`,
    );
    return 1;
  }
  const filled = summarizeScan(fill);
  console.log(
    `fill: exit ${fill.code} in ${(fill.wallMs / 1000).toFixed(1)} s, ${filled.total} packages ${JSON.stringify(filled.states)}`,
  );
  if ((filled.states.pending ?? 0) + (filled.states.analyzing ?? 0) > 0) {
    console.error('fill scan left packages undecided; a warm re-scan would not be warm');
    return 1;
  }

  // One untimed run of each to warm the file-system cache, then interleaved timed runs.
  const warmup = await runCli();
  await runNpmLs();
  const hosted = values.hosted
    ? await startHostedServer(path.join(work, 'data'), values.upstream)
    : undefined;
  const runHosted = hosted
    ? (): Promise<Measurement> =>
        measure(process.execPath, hostedArgs, { cwd: project, env: hostedEnv(hosted.url) })
    : undefined;
  if (runHosted) {
    const first = await runHosted(); // the hosted client's first scan goes through the server
    console.log(`hosted warm-up: scan exit ${first.code} in ${(first.wallMs / 1000).toFixed(1)} s`);
  }
  console.log(
    `warm-up: scan exit ${warmup.code} in ${(warmup.wallMs / 1000).toFixed(1)} s (default configuration)`,
  );
  const cli: Measurement[] = [];
  const ls: Measurement[] = [];
  const viaServer: Measurement[] = [];
  const hostedRuns: Measurement[] = [];
  for (let i = 0; i < runs; i++) {
    const a = await runCli();
    const b = await runNpmLs();
    const c = await runCliServer();
    const d = await runHosted?.();
    if (d) {
      if (d.code !== fill.code)
        console.warn(`run ${i + 1}: hosted scan exit ${d.code}: ${d.stderr.slice(0, 300)}`);
      hostedRuns.push(d);
    }
    if (c.code !== fill.code) console.warn(`run ${i + 1}: scan via the server exit ${c.code}`);
    viaServer.push(c);
    if (a.code !== fill.code) console.warn(`run ${i + 1}: scan exit ${a.code}, fill exit was ${fill.code}`);
    if (b.code !== 0) console.warn(`run ${i + 1}: npm ls exit ${b.code}: ${b.stderr.slice(0, 300)}`);
    cli.push(a);
    ls.push(b);
    console.log(
      `run ${i + 1}/${runs}: scan ${fmtMs(a.wallMs)}   npm ls ${fmtMs(b.wallMs)}   scan via the server ${fmtMs(c.wallMs)}` +
        (d ? `   hosted ${fmtMs(d.wallMs)}` : ''),
    );
  }
  if (hosted) {
    const exited = new Promise((resolve) => hosted.child.once('exit', resolve));
    hosted.child.kill('SIGTERM');
    await exited;
  }
  const hostedMedian = hostedRuns.length > 0 ? median(hostedRuns.map((m) => m.wallMs)) : undefined;
  const warm = summarizeScan(cli[cli.length - 1]!);
  const cliMedian = median(cli.map((m) => m.wallMs));
  const lsMedian = median(ls.map((m) => m.wallMs));
  const ratio = cliMedian / lsMedian;
  const serverMedian = median(viaServer.map((m) => m.wallMs));
  const peakRss = Math.max(...cli.map((m) => m.peakRssKiB ?? 0), fill.peakRssKiB ?? 0);
  const warmPeakRss = Math.max(...cli.map((m) => m.peakRssKiB ?? 0));
  const lsPeakRss = Math.max(...ls.map((m) => m.peakRssKiB ?? 0));

  console.log('\nwarm re-scan (median of %d)', runs);
  console.log(
    `  secure-registry scan --json   ${fmtMs(cliMedian)}   (min ${fmtMs(Math.min(...cli.map((m) => m.wallMs)))})`,
  );
  console.log(
    `  npm ls --all --package-lock-only ${fmtMs(lsMedian)}   (min ${fmtMs(Math.min(...ls.map((m) => m.wallMs)))})`,
  );
  console.log(
    `  ratio ${ratio.toFixed(2)}×  (goal ≤ ${GOAL_RATIO}×: ${ratio <= GOAL_RATIO ? 'met' : 'NOT met'})`,
  );
  console.log(
    `  scan via the in-process server (SECURE_REGISTRY_SCAN_CACHE=off) ${fmtMs(serverMedian)}, ratio ${(serverMedian / lsMedian).toFixed(2)}×`,
  );
  if (hostedMedian !== undefined) {
    const hostedRatio = hostedMedian / lsMedian;
    console.log(
      `  hosted (server already running, SECURE_REGISTRY_SERVER) ${fmtMs(hostedMedian)}, ratio ${hostedRatio.toFixed(2)}×  (goal ≤ ${HOSTED_GOAL_RATIO}×: ${hostedRatio <= HOSTED_GOAL_RATIO ? 'met' : 'NOT met'})`,
    );
  }
  console.log(
    `  load average (1/5/15 min) at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')}`,
  );
  console.log(`  packages in warm result: ${warm.total} ${JSON.stringify(warm.states)}`);
  console.log(
    `  peak RSS of the scan process (CLI + in-process server): warm ${(warmPeakRss / 1024).toFixed(0)} MiB, ` +
      `fill ${((fill.peakRssKiB ?? 0) / 1024).toFixed(0)} MiB; npm ls ${(lsPeakRss / 1024).toFixed(0)} MiB`,
  );
  if (values.json) {
    console.log(
      JSON.stringify({
        entries,
        runs,
        scanMedianMs: cliMedian,
        npmLsMedianMs: lsMedian,
        ratio,
        viaServerMedianMs: serverMedian,
        hostedMedianMs: hostedMedian,
        peakRssKiB: peakRss,
        warmPeakRssKiB: warmPeakRss,
        fillMs: fill.wallMs,
        fillExit: fill.code,
        states: warm.states,
        loadAverage: loadavg(),
      }),
    );
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`warm-rescan: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
