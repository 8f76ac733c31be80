import type { GithubExecutor } from './executors/github/executor.js';
import type { FastifyServerOptions } from 'fastify';
import { UserError } from '@secure-registry/shared';
import { buildServer } from './app.js';
import { LocalArtifactStore } from './artifacts/artifact-store.js';
import { openArtifactStore } from './artifacts/open-artifact-store.js';
import type { ArtifactStoreConfig } from './artifacts/open-artifact-store.js';
import { isLoopbackHost } from './http/auth.js';
import type { AuthMode } from './http/auth.js';
import type { ArtifactAnalyzer } from './pipeline/types.js';
import { DEFAULT_RETRY, runJob } from './scheduler/job-runner.js';
import type { RetryPolicy } from './scheduler/job-runner.js';
import { JobDispatcher } from './scheduler/job-dispatcher.js';
import { createAnalysisQueue } from './scheduler/analysis-queue.js';
import { listUnanalysed } from './services/scan-planner.js';
import { ScanEventHub } from './services/scan-event-hub.js';
import { InvestigationService } from './services/investigation-service.js';
import { ScanService } from './services/scan-service.js';
import { registryDepsFrom } from './http/routes/registry/adapter.js';
import { createStore } from './storage/index.js';
import { DiskSpaceMonitor } from './storage/disk-space.js';
import type { Store } from './storage/store.js';
import { RegistryClient } from './upstream/registry-client.js';
import { createStaticAnalyzer } from './pipeline/static-stage.js';
import { Admission } from './pipeline/admission.js';
import { resolvePolicy } from './rules/policy-file.js';
import type { LoadedPolicy } from './rules/policy-file.js';
import type { LlmConfig } from './reviewers/llm-config.js';
import { createDynamicStage, withDynamicStage } from './pipeline/dynamic-stage.js';
import type { DynamicStageOptions } from './pipeline/dynamic-stage.js';
import { withSandboxOff } from './pipeline/phase-events.js';
import { parseServerConfig } from './config/server-config.js';
import type { Env, ServerConfig } from './config/server-config.js';
import { DEFAULT_HOST, DEFAULT_LEASE_MS, DEFAULT_MIN_FREE_BYTES } from './config/variables.js';
import { createDependencyInstaller } from './pipeline/install-dependencies.js';
import type { InstallDependenciesOptions } from './pipeline/install-dependencies.js';
import { createServerReviewer } from './reviewers/server-reviewer.js';
import { advisoriesFor } from './advisories/osv.js';
import { UpstreamWatcher } from './upstream/watch.js';

export { DEFAULT_HOST, DEFAULT_LEASE_MS };

export interface StartServerOptions {
  /**
   * The parsed configuration (./config): what the options below do not set comes from it. Without
   * it, from `env` (parsed once here, deprecation warnings logged); without either, the defaults.
   */
  config?: ServerConfig | undefined;
  /** The environment to configure from when no `config` is given (the CLI's local mode passes its own). */
  env?: Env | undefined;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  dataDir?: string;
  databaseUrl?: string | undefined;
  /** Where tarballs are kept. Default: from SR_ARTIFACT_STORE (the data directory). */
  artifactStore?: ArtifactStoreConfig | undefined;
  /** Upstream registry; default: the registry npm is configured with. */
  upstream?: string | undefined;
  /** Artifacts analysed at the same time (default 2). */
  concurrency?: number;
  /** Worker threads of the static analysis; 0 runs it on the event loop. Default min(4, CPUs). */
  staticWorkers?: number | undefined;
  /** `none` is only allowed on a loopback address. Default: `none` on 127.0.0.1, else `token`. */
  auth?: AuthMode;
  logger?: boolean | FastifyServerOptions['logger'];
  bodyLimit?: number | undefined;
  /** Lease of a claimed job in milliseconds (default 30 s); a dead worker's job waits this long. */
  leaseMs?: number | undefined;
  retry?: Partial<RetryPolicy>;
  upstreamTimeoutMs?: number | undefined;
  heartbeatMs?: number | undefined;
  /** Replaces the analysis stages (tests). Default: static analysis and the rule set. */
  analyzer?: ArtifactAnalyzer;
  /** The dynamic stage (sandbox) after the static one; `false` turns it off. Default: from SR_SANDBOX (on). */
  sandbox?: DynamicStageOptions | false | undefined;
  /** PostgreSQL only: work in this schema. Default: SR_DATABASE_SCHEMA (unset: the search_path). */
  databaseSchema?: string | undefined;
  /** The verdict policy. Default: the file named by SR_POLICY_FILE, else the built-in policy. */
  policy?: LoadedPolicy | undefined;
  /** The LLM investigator's model; `null` turns it off. Default: from SR_LLM_* (off when unset). */
  llm?: LlmConfig | null | undefined;
  /** Queue analysis when the registry is asked for a tarball that was never vetted (default off). */
  vetOnDemand?: boolean | undefined;
  /** `/healthz` answers 503 while the data directory has fewer bytes free. Default: SR_MIN_FREE_BYTES (64 MiB). */
  minFreeBytes?: number | undefined;
  /** Watch upstream for new versions of known names (./upstream/watch.ts). Default: from SR_WATCH_* (off). */
  watch?: { intervalMs: number; scope: 'seen' | 'approved' } | false | undefined;
}

export interface RunningServer {
  url: string;
  store: Store;
  close(): Promise<void>;
}

/** Artifacts analysed at once when the sandbox is on and no concurrency is given. */
const SANDBOX_WORKERS = 1024;

/**
 * Of those, how many may hold their bytes in memory at once: from the download to the sandbox's copy
 * on disk (./pipeline/admission.ts). The others wait before their download, or for a batch.
 */
const ADMITTED_ARTIFACTS = 32;

/**
 * The options with every unset one filled from the configuration: `options.config`, else parsed
 * from `options.env` (the only place the server reads an environment), else the defaults.
 */
function resolveOptions(options: StartServerOptions): {
  options: StartServerOptions & { dataDir: string; upstream: string };
  config: ServerConfig;
  warnings: string[];
} {
  const parsed = options.config
    ? { config: options.config, warnings: [] }
    : parseServerConfig(options.env ?? {}, process.cwd());
  const { config } = parsed;
  return {
    config,
    warnings: parsed.warnings,
    options: {
      ...options,
      dataDir: options.dataDir ?? config.dataDir,
      upstream: options.upstream ?? config.upstream,
      upstreamTimeoutMs: options.upstreamTimeoutMs ?? config.upstreamTimeoutMs,
      host: options.host ?? (options.config ? config.host : DEFAULT_HOST),
      port: options.port ?? (options.config ? config.port : 0),
      auth: options.auth ?? (options.config ? config.auth : undefined),
      databaseUrl: options.databaseUrl ?? config.databaseUrl,
      artifactStore: options.artifactStore ?? config.artifactStore,
      databaseSchema: options.databaseSchema ?? config.databaseSchema,
      bodyLimit: options.bodyLimit ?? config.bodyLimit,
      leaseMs: options.leaseMs ?? config.leaseMs,
      minFreeBytes: options.minFreeBytes ?? config.minFreeBytes,
      vetOnDemand: options.vetOnDemand ?? config.vetOnDemand,
      watch: options.watch ?? config.watch,
      staticWorkers: options.staticWorkers ?? config.staticWorkers,
      // The configured default follows the configured sandbox; a sandbox setting given here wins, and
      // with it its own default (startServer's), unless a concurrency was configured explicitly.
      concurrency:
        options.concurrency ??
        (options.sandbox !== undefined && (options.sandbox === false) !== (config.sandbox === false)
          ? undefined
          : config.concurrency),
      sandbox: options.sandbox === undefined ? config.sandbox : options.sandbox,
      llm: options.llm === undefined ? (config.llm ?? null) : options.llm,
    },
  };
}

/** Opens the store, starts the workers and listens. The public way to run the server in-process. */
export async function startServer(given: StartServerOptions): Promise<RunningServer> {
  const { options, config, warnings } = resolveOptions(given);
  const host = options.host ?? DEFAULT_HOST;
  const auth = options.auth ?? (isLoopbackHost(host) ? 'none' : 'token');
  if (auth === 'none' && !isLoopbackHost(host)) {
    throw new UserError('ERR_SR_TOKENLESS_NOT_LOCAL', `refusing to run without tokens on ${host}`, {
      hint: 'tokenless mode is only allowed on 127.0.0.1 (or ::1); set AUTH=token and create tokens',
    });
  }
  const sandbox = options.sandbox ?? false;
  // With the sandbox on, most artifacts in flight wait for a batch to fill (./pipeline/phase-batcher.ts):
  // many are taken at once so that batches form; the sandbox slots bound the real work.
  const concurrency = options.concurrency ?? (sandbox === false ? 2 : SANDBOX_WORKERS);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new UserError('ERR_SR_CONFIG', `concurrency must be a positive integer, got ${concurrency}`);
  }
  // Verdict policy and LLM investigator (../rules/policy-file.ts, ../reviewers): read before opening anything.
  const policy = options.policy ?? (await resolvePolicy({ file: config.policyFile, cwd: process.cwd() }));
  const llm = options.llm ?? undefined;
  // A bucket that cannot be reached fails the start-up here, before the database is opened.
  const artifactStore = await openArtifactStore(options.artifactStore ?? { kind: 'local' }, options.dataDir);
  const { artifacts } = artifactStore;
  const registry = new RegistryClient({
    baseUrl: options.upstream,
    ...(options.upstreamTimeoutMs !== undefined ? { timeoutMs: options.upstreamTimeoutMs } : {}),
  });
  const store = await createStore({
    dataDir: options.dataDir,
    databaseUrl: options.databaseUrl,
    schema: options.databaseSchema,
  });
  const hub = new ScanEventHub();
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const queue = createAnalysisQueue({ store, wake: () => dispatcher.wake() });
  const scans = new ScanService({ store, registry, hub, queue });
  // Partial writes a killed process or a full disk left behind (issue 13 item 9).
  if (artifacts instanceof LocalArtifactStore) await artifacts.removeStaleTemporaryFiles();
  const diskSpace = new DiskSpaceMonitor({
    dir: options.dataDir,
    minFreeBytes: options.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES,
  });
  const investigation = new InvestigationService({
    store,
    scans,
    registry,
    artifacts,
    queue,
  });
  const app = buildServer({
    investigation,
    registry: registryDepsFrom({
      store,
      registry,
      artifacts,
      vetOnDemand: options.vetOnDemand ?? false,
      queue,
    }),
    store,
    scans,
    hub,
    auth,
    executorTransfer:
      sandbox !== false && sandbox.executor?.kind === 'github'
        ? (sandbox.executor as GithubExecutor).transfer
        : undefined,
    bodyLimit: options.bodyLimit,
    diskSpace,
    logger: options.logger ?? false,
    ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
  });
  const log = (message: string): void => app.log.warn(message);
  const noteDiskFull = (error: unknown): void => void diskSpace.noteError(error);
  for (const warning of warnings) log(warning);
  app.log.info(`artifact store: ${artifactStore.description}`);
  const pipeline = {
    registry,
    artifacts,
    analyzer: options.analyzer ?? analysisStages(sandbox, { registry, artifacts }, options.staticWorkers),
    admission: new Admission(Math.min(concurrency, ADMITTED_ARTIFACTS)),
    policy,
    advisories: async (name: string, version: string) =>
      advisoriesFor(await store.listAdvisories(name), version),
  };
  const reviewer = llm
    ? createServerReviewer({
        llm,
        policy,
        ruleSet: pipeline.analyzer.ruleSet,
        store,
        scans,
        auth,
        baseUrl: () => url,
      })
    : undefined;
  const dispatcher: JobDispatcher = new JobDispatcher({
    store,
    capacity: concurrency,
    leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
    handle: (job, signal) =>
      runJob(job, { store, scans, retry, log, pipeline, reviewer, onDiskFull: noteDiskFull }, signal),
    onError: (error, job) => {
      noteDiskFull(error);
      app.log.error(
        { err: String(error), job: job ? `${job.name}@${job.version}` : undefined },
        'worker error',
      );
    },
  });
  let address: string;
  let url = '';
  try {
    address = await app.listen({ host, port: options.port ?? 0 });
  } catch (error) {
    await app.close();
    await Promise.all([registry.close(), store.close()]);
    artifactStore.close();
    throw error;
  }
  url = address;
  await dispatcher.start();
  // Events another replica appends to a scan wake this replica's SSE streams of it.
  const unwatchScanEvents = await store.watchScanEvents(
    (scanId) => hub.notify(scanId),
    () => hub.notifyAll(),
    (error) => app.log.error({ err: error.message }, 'scan event notifications failed'),
  );
  // "Could not analyse" is not a decision (13.8): what was held for that is analysed again now.
  const unanalysed = await listUnanalysed(store, { interrupted: false });
  await queue.queueAnalysis(unanalysed.map(({ name, version, integrity }) => ({ name, version, integrity })));
  const watcher = options.watch
    ? new UpstreamWatcher({
        store,
        registry,
        queue,
        ...options.watch,
        log: (message) => app.log.info(message),
      })
    : undefined;
  watcher?.start();
  let closing: Promise<void> | undefined;
  return {
    url,
    store,
    close: () => {
      closing ??= (async () => {
        await watcher?.close();
        await unwatchScanEvents();
        await dispatcher.close();
        await app.close();
        await registry.close();
        await store.close();
        artifactStore.close();
      })();
      return closing;
    },
  };
}

/**
 * Static analysis, then (unless turned off) the sandbox phases: ./pipeline/dynamic-stage.ts. The
 * install phase runs with the package's dependencies present, fetched through the server's upstream
 * client and artifact store (./pipeline/install-dependencies.ts).
 */
function analysisStages(
  sandbox: DynamicStageOptions | false,
  upstream: Pick<InstallDependenciesOptions, 'registry' | 'artifacts'>,
  staticWorkers: number | undefined,
): ArtifactAnalyzer {
  const staticStage = createStaticAnalyzer(staticWorkers !== undefined ? { workers: staticWorkers } : {});
  if (sandbox === false) return withSandboxOff(staticStage);
  const installDependencies = createDependencyInstaller(upstream);
  return withDynamicStage(staticStage, createDynamicStage({ installDependencies, ...sandbox }));
}
