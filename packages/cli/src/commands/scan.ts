import { basename, relative, resolve } from 'node:path';
import type { Instance } from 'ink';
import { SecureRegistryError, UserError, redact } from '@secure-registry/shared';
import { exitCodeForError } from '../error-exit-code.js';
import type { ScanEvent, ScanResult } from '@secure-registry/shared';
import type { ApiClient } from '../api-client.js';
import { DEFAULT_FAIL_ON, ExitCode, exitCodeFor } from '../exit-codes.js';
import type { FailOn } from '../exit-codes.js';
import { buildJsonErrorReport, buildJsonReport } from '../output/json.js';
import { plainEventLines, plainSummaryLines } from '../output/plain.js';
import { buildSarif } from '../output/sarif.js';
import { defaultDataDir, readStoredConfig, resolveTarget } from '../services/target.js';
import type { RunningServer } from '../services/local-server.js';
import { findProjectLockfile } from '../services/lockfile-find.js';
import { resolveUpstream } from '../services/upstream.js';
import {
  hostedVerdicts,
  integrityFromUpstream,
  openScanCache,
  scanCacheEnabled,
} from '../services/warm-cache.js';
import type { CachedScan } from '../services/warm-cache.js';
import { initialScanViewState, reduceScanEvent, withResult } from '../ui/scan-state.js';
import type { ScanViewState } from '../ui/scan-state.js';
import { phaseSummaryLines, stepsOf } from '../ui/phase-state.js';
import { wantsInteractive, writeOut } from './io.js';
import type { CommandIo } from './io.js';
import { parseFailOn } from './fail-on.js';

export interface ScanFlags {
  json?: boolean;
  sarif?: boolean;
  failOn?: string;
  upstream?: string;
  /** After a clean scan (exit 0), point npm at the vetted registry (`secure-registry use`). */
  use?: boolean;
  verbose?: boolean;
  /** Plain output: no line per finished package, only the summary. */
  quiet?: boolean;
}

/**
 * `secure-registry scan [dir]`: lockfile → graph → server → streamed verdicts → exit code. With
 * `--json`, a scan that cannot run still prints one document: the error and its exit code (the
 * error itself goes on to stderr as for every command).
 */
export async function runScan(
  dir: string,
  flags: ScanFlags,
  io: CommandIo,
  toolVersion: string,
): Promise<number> {
  const printed = { document: false };
  try {
    return await scanAndReport(dir, flags, io, toolVersion, printed);
  } catch (error) {
    if (flags.json && !printed.document) {
      const message = redact(error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
      const known = error instanceof SecureRegistryError ? error : undefined;
      const body = buildJsonErrorReport(exitCodeForError(error), {
        ...(known ? { code: known.code } : {}),
        message,
        ...(known?.hint ? { hint: redact(known.hint) } : {}),
      });
      await writeOut(io.stdout, `${JSON.stringify(body, null, 2)}\n`);
    }
    throw error;
  }
}

async function scanAndReport(
  dir: string,
  flags: ScanFlags,
  io: CommandIo,
  toolVersion: string,
  printed: { document: boolean },
): Promise<number> {
  const failOn: FailOn = flags.failOn === undefined ? DEFAULT_FAIL_ON : parseFailOn(flags.failOn);
  if (flags.json && flags.sarif) {
    throw new UserError('ERR_SR_USAGE', '--json and --sarif cannot be combined: each prints one document');
  }
  const target = resolveTarget(await readStoredConfig(io.env), io.env);
  // `--use` needs a persistent registry: in local mode it fails as `secure-registry use` does.
  if (flags.use) (await import('./use.js')).vettedRegistry(io.env);
  if (target.mode === 'hosted' && flags.upstream) {
    throw new UserError(
      'ERR_SR_USAGE',
      '--upstream applies to local mode only; the hosted server has its own upstream',
    );
  }
  // A package.json without a lockfile is resolved as npm would, against the upstream.
  const projectDir = resolve(dir);
  const resolveWith =
    (await findProjectLockfile(projectDir)) === undefined
      ? { env: io.env, registry: await resolveUpstream({ flag: flags.upstream, projectDir, env: io.env }) }
      : undefined;
  let client: ApiClient | undefined;
  // The hosted client, made on first use (a warm re-check asks it for the stored verdicts).
  const hostedClient = async (server: string, token: string | undefined): Promise<ApiClient> => {
    const { ApiClient } = await import('../api-client.js');
    return (client ??= new ApiClient({ server, token }));
  };
  // The last graph and result of an unchanged project are kept (services/warm-cache.ts); a hosted
  // result is used while the server's stored verdicts are the ones it came from.
  const cache =
    !resolveWith && scanCacheEnabled(io.env, target.mode)
      ? target.mode === 'local'
        ? await openScanCache(target.dataDir, toolVersion)
        : await openScanCache(
            defaultDataDir(io.env),
            toolVersion,
            hostedVerdicts(target.server, async (keys) =>
              (await hostedClient(target.server, target.token)).verdictSignatures(keys),
            ),
          )
      : undefined;
  let lockfile = await cache?.cachedLockfile(projectDir);
  if (!lockfile) {
    const { loadLockfile } = await import('../services/lockfile.js');
    const inputs = new Map<string, string | undefined>();
    lockfile = await loadLockfile(dir, resolveWith ? { resolveWith } : { inputs });
    await cache?.saveLockfile(projectDir, lockfile, inputs).catch(() => undefined);
  }
  if (lockfile.resolved) io.stderr.write(`secure-registry: ${lockfile.resolved}\n`);

  let server: RunningServer | undefined;
  let view: LiveView | undefined;
  let exitCode: number;
  let savable: CachedScan | undefined;
  const mode = flags.json || flags.sarif ? 'document' : wantsInteractive(io) ? 'ink' : 'plain';
  const plain = (lines: string[]) => {
    if (mode === 'plain' && lines.length) io.stdout.write(`${lines.join('\n')}\n`);
  };
  const label = basename(lockfile.dir);
  // Local mode asks this upstream for the integrities a lockfile lacks (Yarn Berry's): a kept
  // result of such a graph is one per upstream.
  const localUpstream = (): Promise<string> =>
    resolveUpstream({ flag: flags.upstream, projectDir: lockfile.dir, env: io.env });
  const cacheUpstream =
    cache && target.mode === 'local' && integrityFromUpstream(lockfile.graph)
      ? await localUpstream()
      : undefined;
  try {
    const cached = await cache?.cachedResult(lockfile.graph, label, cacheUpstream);
    if (cached) {
      // Every verdict it used is still the stored one: the server would answer the same.
      plain([
        `secure-registry: ${lockfile.graph.nodes.length} packages from ${lockfile.path} → stored verdicts in ${target.mode === 'local' ? target.dataDir : target.server}`,
      ]);
    } else if (target.mode === 'local') {
      const upstream = cacheUpstream ?? (await localUpstream());
      if (flags.verbose) io.stderr.write(`local mode: data in ${target.dataDir}, upstream ${upstream}\n`);
      const [{ startLocalServer }, { ApiClient }] = await Promise.all([
        import('../services/local-server.js'),
        import('../api-client.js'),
      ]);
      server = await startLocalServer({ dataDir: target.dataDir, upstream, env: io.env });
      client = new ApiClient({ server: server.url });
    } else {
      client = await hostedClient(target.server, target.token);
    }
    if (client) {
      plain([
        `secure-registry: ${lockfile.graph.nodes.length} packages from ${lockfile.path} → ${client.server}`,
      ]);
    }
    let state = initialScanViewState(lockfile.fileName, lockfile.graph.nodes.length);
    if (mode === 'ink') view = await openLiveView(io, state);
    const onEvent = (event: ScanEvent) => {
      const steps =
        event.type === 'package.state' ? stepsOf(state.phases, `${event.name}@${event.version}`) : [];
      plain(plainEventLines(event, { quiet: flags.quiet === true, steps }));
      state = reduceScanEvent(state, event);
      view?.update(state);
    };
    const events: ScanEvent[] = [];
    let result: ScanResult;
    if (cached) {
      for (const event of cached.events) onEvent(event);
      result = cached.result;
    } else {
      const { submitAndFollowScan } = await import('../services/scan-follow.js');
      result = await submitAndFollowScan({
        client: client!,
        graph: lockfile.graph,
        label,
        onEvent: (event) => {
          events.push(event);
          onEvent(event);
        },
      });
    }
    exitCode = exitCodeFor(result.packages, failOn);
    // Recorded once the server is closed: its last writes are then in the database.
    if (!cached) savable = { result, events };
    const format = flags.sarif ? 'sarif' : flags.json ? 'json' : undefined;
    const analysis = phaseSummaryLines(state.phases);
    printed.document = format !== undefined;
    await renderResult({ result, exitCode, failOn, io, format, view, lockfile, toolVersion, analysis });
  } finally {
    view?.close();
    // Local mode: recorded once the server is closed (its last writes are then in the database).
    // Hosted: recorded first, with the server's verdicts read through the client.
    if (server || !savable) {
      await client?.close();
      await server?.close();
    }
  }
  try {
    if (cache && savable)
      await cache.saveResult(lockfile.graph, label, savable, cacheUpstream).catch(() => undefined);
  } finally {
    if (!server && savable) await client?.close();
  }
  if (exitCode !== ExitCode.Ok || target.mode !== 'hosted') return exitCode;
  // After the view is gone: `use` may ask on the terminal and prints what it changed. Loaded only
  // here (`use` runs npm through execa).
  const { afterCleanScan } = await import('./scan-use.js');
  return afterCleanScan({
    io,
    server: target.server,
    projectDir: lockfile.dir,
    use: flags.use === true,
    output: mode === 'document' ? 'document' : mode,
  });
}

async function renderResult(input: {
  result: ScanResult;
  exitCode: number;
  failOn: FailOn;
  io: CommandIo;
  format: 'json' | 'sarif' | undefined;
  view: LiveView | undefined;
  lockfile: { path: string; fileName: string; lockfileVersion: number | undefined };
  toolVersion: string;
  /** What ran in the scan and where (plain output). */
  analysis: string[];
}): Promise<void> {
  const { result, exitCode, io, lockfile } = input;
  if (input.view) {
    input.view.update(withResult(input.view.state, result, exitCode));
    return;
  }
  if (input.format === undefined) {
    await writeOut(io.stdout, `${plainSummaryLines(result, exitCode, input.analysis).join('\n')}\n`);
    return;
  }
  const lockfileUri = relative(process.cwd(), lockfile.path).split('\\').join('/') || lockfile.fileName;
  const body =
    input.format === 'sarif'
      ? buildSarif({ result, lockfileUri, toolVersion: input.toolVersion })
      : buildJsonReport({
          result,
          exitCode,
          failOn: input.failOn,
          lockfilePath: lockfile.path,
          lockfileVersion: lockfile.lockfileVersion,
        });
  await writeOut(io.stdout, `${JSON.stringify(body, null, 2)}\n`);
}

interface LiveView {
  state: ScanViewState;
  instance: Instance;
  update(state: ScanViewState): void;
  close(): void;
}

/** The Ink view, loaded only for TTYs (Ink and React are the slowest modules to load). */
async function openLiveView(io: CommandIo, state: ScanViewState): Promise<LiveView> {
  const [{ render }, { createElement }, { ScanView }] = await Promise.all([
    import('ink'),
    import('react'),
    import('../ui/ScanView.js'),
  ]);
  const instance = render(createElement(ScanView, { state }), {
    stdout: io.stdout,
    stderr: io.stderr,
    patchConsole: false,
    exitOnCtrlC: true,
  });
  // Running steps show how long they have run: the clock moves the view once a second.
  const tick = setInterval(() => view.update({ ...view.state, now: Date.now() }), 1000);
  tick.unref();
  const view: LiveView = {
    state,
    instance,
    update(next) {
      view.state = next;
      instance.rerender(createElement(ScanView, { state: next }));
    },
    close() {
      clearInterval(tick);
      instance.unmount();
    },
  };
  return view;
}
