/** The server's configuration, parsed once from the environment it is given (./variables.ts). */
import { availableParallelism, homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '@secure-registry/shared';
import type { AuthMode } from '../http/auth.js';
import type { DynamicStageOptions } from '../pipeline/dynamic-stage.js';
import type { LlmConfig } from '../reviewers/llm-config.js';
import { LLM_DEFAULTS } from '../reviewers/llm-config.js';
import { githubExecutorFromConfig } from '../executors/github/index.js';
import { configuredRegistry } from '../upstream/npmrc.js';
import type { ArtifactStoreConfig } from '../artifacts/open-artifact-store.js';
import { DEFAULT_HOST, DEFAULT_MIN_FREE_BYTES, DEFAULT_PORT, VARIABLES } from './variables.js';
import type { LOG_LEVELS } from './variables.js';
import type { ServerEnv, Variable, VariableKey } from './variables.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface ServerConfig {
  host: string;
  port: number;
  auth: AuthMode;
  bodyLimit: number | undefined;
  logLevel: (typeof LOG_LEVELS)[number];
  debug: boolean;
  dataDir: string;
  /** `/healthz` answers 503 while the data directory has fewer bytes free. */
  minFreeBytes: number;
  databaseUrl: string | undefined;
  /** Where tarballs are kept (SR_ARTIFACT_STORE, SR_S3_*). */
  artifactStore: ArtifactStoreConfig;
  /** PostgreSQL: the schema to work in; undefined: the connection's search_path. */
  databaseSchema: string | undefined;
  upstream: string;
  /** Wall-clock limit of one upstream request in ms; undefined: the registry client's default. */
  upstreamTimeoutMs: number | undefined;
  /** Artifacts in flight; undefined: the server's default for the sandbox setting. */
  concurrency: number | undefined;
  /** Worker threads of the static analysis (0: the event loop); undefined: min(4, CPUs). */
  staticWorkers: number | undefined;
  leaseMs: number | undefined;
  vetOnDemand: boolean;
  /** The upstream watch (../upstream/watch.ts), or false when SR_WATCH_INTERVAL is 0. */
  watch: { intervalMs: number; scope: 'seen' | 'approved' } | false;
  /** The dynamic stage's settings, or false when SR_SANDBOX=off. */
  sandbox: DynamicStageOptions | false;
  /** Resolved path of the policy file; undefined: the built-in policy. */
  policyFile: string | undefined;
  /** The LLM investigator; undefined: off. */
  llm: LlmConfig | undefined;
}

export interface ParsedConfig {
  config: ServerConfig;
  /** Deprecation notices (old variable names still in use). */
  warnings: string[];
}

function configError(name: string, message: string): UserError {
  return new UserError('ERR_SR_CONFIG', `${name}: ${message}`, {
    hint: 'see `secure-registry-server --help`',
  });
}

/** Reads and validates every variable of the table; the SR_ name wins over the old one. */
export function readServerEnv(env: Env): { values: ServerEnv; warnings: string[] } {
  const values: Record<string, unknown> = {};
  const warnings: string[] = [];
  for (const [key, spec] of Object.entries(VARIABLES) as [VariableKey, Variable<unknown>][]) {
    let name = spec.name;
    let raw = env[spec.name]?.trim() || undefined;
    if (raw === undefined && spec.legacy !== undefined) {
      raw = env[spec.legacy]?.trim() || undefined;
      if (raw !== undefined) {
        name = spec.legacy;
        warnings.push(
          `${spec.legacy} is deprecated: use ${spec.name} (the old name is read for one release)`,
        );
      }
    }
    const parsed = spec.schema.safeParse(raw);
    if (!parsed.success) {
      throw configError(name, `${parsed.error.issues[0]?.message ?? 'invalid'}, got ${JSON.stringify(raw)}`);
    }
    values[key] = parsed.data;
  }
  return { values: values as ServerEnv, warnings };
}

/** The default data directory: `$XDG_DATA_HOME/secure-registry`, else `~/.local/share/secure-registry`. */
export function defaultDataDir(xdgDataHome: string | undefined, home = homedir()): string {
  return join(xdgDataHome ? xdgDataHome : join(home, '.local', 'share'), 'secure-registry');
}

function sandboxOptions(values: ServerEnv): DynamicStageOptions | false {
  if (values.sandbox === false) return false;
  const executor =
    values.executor === 'github'
      ? githubExecutorFromConfig(
          {
            repository: values.githubRepository,
            token: values.githubToken,
            workflow: values.githubWorkflow,
            maxJobs: values.githubMaxJobs,
            batch: values.githubBatch,
            apiUrl: values.githubApiUrl,
            publicUrl: values.publicUrl,
            phaseTimeoutMs: values.sandboxTimeoutMs ?? 60_000,
          },
          configError,
        )
      : undefined;
  return {
    ...(executor ? { executor } : {}),
    ...(values.sandboxTimeoutMs !== undefined ? { timeoutMs: values.sandboxTimeoutMs } : {}),
    ...(values.sandboxGraceMs !== undefined ? { graceMs: values.sandboxGraceMs } : {}),
    ...(values.sandboxConcurrency !== undefined ? { concurrency: values.sandboxConcurrency } : {}),
  };
}

function llmConfig(values: ServerEnv): LlmConfig | undefined {
  const provider = values.llmProvider;
  if (provider === undefined || provider === 'none') return undefined;
  const defaults = LLM_DEFAULTS[provider];
  const apiKey = provider === 'openai' ? values.openaiApiKey : values.anthropicApiKey;
  if (!apiKey && !values.llmBaseUrl) {
    throw configError(defaults.keyVar, `required for SR_LLM_PROVIDER=${provider} with the default endpoint`);
  }
  return {
    provider,
    baseUrl: values.llmBaseUrl ? new URL(values.llmBaseUrl).href : defaults.baseUrl,
    model: values.llmModel ?? defaults.model,
    apiKey,
  };
}

function artifactStoreConfig(values: ServerEnv): ArtifactStoreConfig {
  if (values.artifactStore !== 's3') return { kind: 'local' };
  if (!values.s3Bucket) throw configError('SR_S3_BUCKET', 'required with SR_ARTIFACT_STORE=s3');
  const { awsAccessKeyId: accessKeyId, awsSecretAccessKey: secretAccessKey } = values;
  if (!accessKeyId !== !secretAccessKey) {
    throw configError('AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together');
  }
  return {
    kind: 's3',
    bucket: values.s3Bucket,
    prefix: values.s3Prefix ?? '',
    endpoint: values.s3Endpoint,
    region: values.s3Region ?? values.awsRegion ?? 'us-east-1',
    forcePathStyle: values.s3ForcePathStyle ?? values.s3Endpoint !== undefined,
    credentials:
      accessKeyId && secretAccessKey
        ? { accessKeyId, secretAccessKey, sessionToken: values.awsSessionToken }
        : undefined,
  };
}

function databaseSchema(values: ServerEnv): string | undefined {
  if (values.databaseSchema !== undefined && values.databaseUrl === undefined) {
    throw configError('SR_DATABASE_SCHEMA', 'is for PostgreSQL: set SR_DATABASE_URL too');
  }
  return values.databaseSchema;
}

function upstreamUrl(values: ServerEnv, env: Env, cwd: string): string {
  const raw = values.upstream ?? configuredRegistry({ env, cwd });
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    return url.href;
  } catch {
    throw configError('SR_UPSTREAM_REGISTRY', `expected an http(s) URL, got ${JSON.stringify(raw)}`);
  }
}

/**
 * The whole server configuration from `env` (relative paths against `cwd`). Throws a UserError
 * (ERR_SR_CONFIG) naming the variable as it was spelt in the environment.
 */
export function parseServerConfig(env: Env, cwd: string): ParsedConfig {
  const { values, warnings } = readServerEnv(env);
  const sandbox = sandboxOptions(values);
  const config: ServerConfig = {
    host: values.host ?? DEFAULT_HOST,
    port: values.port ?? DEFAULT_PORT,
    auth: values.auth ?? 'token',
    bodyLimit: values.bodyLimit,
    logLevel: values.logLevel ?? 'info',
    debug: values.debug ?? false,
    dataDir: values.dataDir ? resolve(cwd, values.dataDir) : defaultDataDir(values.xdgDataHome),
    minFreeBytes: values.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES,
    databaseUrl: values.databaseUrl,
    artifactStore: artifactStoreConfig(values),
    databaseSchema: databaseSchema(values),
    upstream: upstreamUrl(values, env, cwd),
    upstreamTimeoutMs: values.upstreamTimeoutMs,
    concurrency: values.concurrency ?? (sandbox === false ? Math.min(4, availableParallelism()) : undefined),
    staticWorkers: values.staticWorkers,
    leaseMs: values.leaseMs,
    vetOnDemand: values.vetOnDemand ?? false,
    watch: values.watchInterval
      ? { intervalMs: values.watchInterval * 1000, scope: values.watchScope ?? 'seen' }
      : false,
    sandbox,
    policyFile: values.policyFile ? resolve(cwd, values.policyFile) : undefined,
    llm: llmConfig(values),
  };
  return { config, warnings };
}
