/**
 * Every environment variable `secure-registry-server` reads: one documented entry each (name, the
 * old name it replaces, zod schema of the raw text, default, meaning). `--help` and the README's
 * configuration table are generated from / checked against this table (./config-help.ts).
 *
 * Naming scheme: `SR_` + upper snake case for everything the server owns; variables owned by someone
 * else keep that owner's name (provider API keys, `XDG_DATA_HOME`, npm's `npm_config_registry`).
 */
import { z } from 'zod';
import { DEFAULT_BODY_LIMIT } from '../app.js';
import { DEFAULT_UPSTREAM_TIMEOUT_MS } from '../upstream/registry-client.js';

export const DEFAULT_PORT = 4874;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_LEASE_MS = 30_000;
/** Free space in the data directory below which `/healthz` reports it full (64 MiB). */
export const DEFAULT_MIN_FREE_BYTES = 64 * 1024 * 1024;

export type VariableGroup = 'server' | 'storage' | 'analysis' | 'sandbox' | 'verdict' | 'external';

export interface Variable<T> {
  name: string;
  /** The name it had before the SR_ scheme; still read, with a deprecation warning. */
  legacy?: string;
  group: VariableGroup;
  /** Parses the trimmed raw text; `undefined` when the variable is unset or empty. */
  schema: z.ZodType<T, string | undefined>;
  /** The default as shown in --help. */
  default: string;
  description: string;
}

function variable<T>(spec: Variable<T>): Variable<T> {
  return spec;
}

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'expected an integer')
    .transform(Number)
    .pipe(z.number().int().min(min, `expected ${min}..${max}`).max(max, `expected ${min}..${max}`));

const httpUrl = z.string().refine((text) => {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}, 'expected an http(s) URL');

const onOff = z
  .string()
  .transform((text) => text.toLowerCase())
  .pipe(z.enum(['on', 'off', '1', '0', 'true', 'false'], 'expected "on" or "off"'))
  .transform((text) => text === 'on' || text === '1' || text === 'true');

const text = z.string();

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const VARIABLES = {
  port: variable({
    name: 'SR_PORT',
    legacy: 'PORT',
    group: 'server',
    schema: integer(0, 65535).optional(),
    default: String(DEFAULT_PORT),
    description: 'port to listen on (0 picks a free one)',
  }),
  host: variable({
    name: 'SR_HOST',
    legacy: 'HOST',
    group: 'server',
    schema: text.optional(),
    default: DEFAULT_HOST,
    description: 'address to bind',
  }),
  auth: variable({
    name: 'SR_AUTH',
    legacy: 'AUTH',
    group: 'server',
    schema: z.enum(['token', 'none'], 'expected none or token').optional(),
    default: 'token',
    description: 'token, or none (refused unless SR_HOST is 127.0.0.1 or ::1)',
  }),
  bodyLimit: variable({
    name: 'SR_BODY_LIMIT',
    legacy: 'BODY_LIMIT',
    group: 'server',
    schema: integer(1024, 2 ** 31 - 1).optional(),
    default: String(DEFAULT_BODY_LIMIT),
    description: 'largest request body in bytes; larger ones get 413',
  }),
  logLevel: variable({
    name: 'SR_LOG_LEVEL',
    legacy: 'LOG_LEVEL',
    group: 'server',
    schema: z.enum(LOG_LEVELS, `expected one of ${LOG_LEVELS.join(', ')}`).optional(),
    default: 'info',
    description: LOG_LEVELS.join(', '),
  }),
  debug: variable({
    name: 'SR_DEBUG',
    legacy: 'DEBUG',
    group: 'server',
    schema: z
      .string()
      .transform((value) => value !== '0')
      .optional(),
    default: 'unset',
    description: 'set: print the stack trace of an unexpected failure',
  }),
  dataDir: variable({
    name: 'SR_DATA_DIR',
    legacy: 'DATA_DIR',
    group: 'storage',
    schema: text.optional(),
    default: '$XDG_DATA_HOME/secure-registry or ~/.local/share/secure-registry',
    description: 'SQLite file and artifact store (relative to the working directory)',
  }),
  minFreeBytes: variable({
    name: 'SR_MIN_FREE_BYTES',
    group: 'storage',
    schema: integer(0, Number.MAX_SAFE_INTEGER).optional(),
    default: String(DEFAULT_MIN_FREE_BYTES),
    description:
      '/healthz says 503 below this many free bytes in the data directory, or after a disk-full write',
  }),
  databaseUrl: variable({
    name: 'SR_DATABASE_URL',
    legacy: 'DATABASE_URL',
    group: 'storage',
    schema: z
      .string()
      .regex(/^postgres(ql)?:\/\//i, 'expected a postgres:// or postgresql:// URL')
      .optional(),
    default: 'unset (SQLite)',
    description: 'postgres://… to use PostgreSQL instead of SQLite',
  }),
  artifactStore: variable({
    name: 'SR_ARTIFACT_STORE',
    group: 'storage',
    schema: z.enum(['local', 's3'], 'expected "local" or "s3"').optional(),
    default: 'local',
    description: 'where tarballs are kept: SR_DATA_DIR/artifacts (local) or an S3-compatible bucket (s3)',
  }),
  s3Bucket: variable({
    name: 'SR_S3_BUCKET',
    group: 'storage',
    schema: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name')
      .optional(),
    default: 'unset (required with SR_ARTIFACT_STORE=s3)',
    description: 'the bucket; checked at start-up (reachable, credentials accepted)',
  }),
  s3Prefix: variable({
    name: 'SR_S3_PREFIX',
    group: 'storage',
    schema: text.optional(),
    default: 'none',
    description: 'key prefix inside the bucket (keys: PREFIX/sha512/XX/HEX.tgz)',
  }),
  s3Endpoint: variable({
    name: 'SR_S3_ENDPOINT',
    group: 'storage',
    schema: httpUrl.optional(),
    default: 'AWS S3 of the region',
    description: 'an S3-compatible endpoint (MinIO, Ceph, R2, …)',
  }),
  s3Region: variable({
    name: 'SR_S3_REGION',
    group: 'storage',
    schema: text.optional(),
    default: 'AWS_REGION, else us-east-1',
    description: "the bucket's region",
  }),
  s3ForcePathStyle: variable({
    name: 'SR_S3_FORCE_PATH_STYLE',
    group: 'storage',
    schema: onOff.optional(),
    default: 'on with SR_S3_ENDPOINT, else off',
    description: 'on: ENDPOINT/BUCKET/key URLs instead of BUCKET.ENDPOINT/key',
  }),
  databaseSchema: variable({
    name: 'SR_DATABASE_SCHEMA',
    group: 'storage',
    schema: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'expected a schema name (letters, digits, _)')
      .optional(),
    default: "unset (the URL's search_path, usually public)",
    description:
      'PostgreSQL schema to work in (created if missing); replicas sharing the work use the same one',
  }),
  upstream: variable({
    name: 'SR_UPSTREAM_REGISTRY',
    legacy: 'UPSTREAM_REGISTRY',
    group: 'analysis',
    schema: httpUrl.optional(),
    default: 'registry= of ./.npmrc or ~/.npmrc, else https://registry.npmjs.org/',
    description: 'upstream npm registry',
  }),
  upstreamTimeoutMs: variable({
    name: 'SR_UPSTREAM_TIMEOUT_MS',
    group: 'analysis',
    schema: integer(100, 2 ** 31 - 1).optional(),
    default: String(DEFAULT_UPSTREAM_TIMEOUT_MS),
    description:
      'wall-clock limit of one upstream request; failures on the network, timeouts and 5xx are tried 3 times in all, then the scan reports an infrastructure failure',
  }),
  concurrency: variable({
    name: 'SR_CONCURRENCY',
    legacy: 'CONCURRENCY',
    group: 'analysis',
    schema: integer(1, 4096).optional(),
    default: '1024 with the sandbox on, else min(4, CPUs)',
    description: 'artifacts in flight at once (a bound; the sandbox slots bound the real work)',
  }),
  staticWorkers: variable({
    name: 'SR_STATIC_WORKERS',
    group: 'analysis',
    schema: integer(0, 64).optional(),
    default: 'min(4, CPUs)',
    description: 'worker threads for the static analysis (0: on the event loop)',
  }),
  leaseMs: variable({
    name: 'SR_JOB_LEASE_MS',
    legacy: 'JOB_LEASE_MS',
    group: 'analysis',
    schema: integer(500, 24 * 3600 * 1000).optional(),
    default: String(DEFAULT_LEASE_MS),
    description: "job lease in ms, renewed while the work runs; a dead worker's job is reclaimed after it",
  }),
  vetOnDemand: variable({
    name: 'SR_VET_ON_DEMAND',
    legacy: 'VET_ON_DEMAND',
    group: 'analysis',
    schema: onOff.optional(),
    default: 'off',
    description: 'on: a tarball request for a never-vetted version queues its analysis',
  }),
  watchInterval: variable({
    name: 'SR_WATCH_INTERVAL',
    group: 'analysis',
    schema: integer(0, 7 * 24 * 3600).optional(),
    default: '0 (off)',
    description:
      'seconds between checks of upstream for new versions of watched names, vetted in the background',
  }),
  watchScope: variable({
    name: 'SR_WATCH_SCOPE',
    group: 'analysis',
    schema: z.enum(['seen', 'approved'], 'expected seen or approved').optional(),
    default: 'seen',
    description: 'names watched: every name with a stored version (seen) or with an approved one',
  }),
  sandbox: variable({
    name: 'SR_SANDBOX',
    legacy: 'SANDBOX',
    group: 'sandbox',
    schema: onOff.optional(),
    default: 'on',
    description: 'off only for tests: packages are then judged on static signals alone',
  }),
  sandboxTimeoutMs: variable({
    name: 'SR_SANDBOX_TIMEOUT_MS',
    legacy: 'SANDBOX_TIMEOUT_MS',
    group: 'sandbox',
    schema: integer(1, 2 ** 31 - 1).optional(),
    default: '60000',
    description: 'wall-clock limit of one phase, scaled up when more runs than cores share the machine',
  }),
  sandboxGraceMs: variable({
    name: 'SR_SANDBOX_GRACE_MS',
    legacy: 'SANDBOX_GRACE_MS',
    group: 'sandbox',
    schema: integer(1, 2 ** 31 - 1).optional(),
    default: '3000',
    description:
      "how long a phase's sandbox stays up for delayed payloads, at most (it ends once nothing of the package is left)",
  }),
  sandboxConcurrency: variable({
    name: 'SR_SANDBOX_CONCURRENCY',
    legacy: 'SANDBOX_CONCURRENCY',
    group: 'sandbox',
    schema: integer(1, 1024).optional(),
    default: 'CPUs',
    description: 'sandbox runs at once',
  }),
  sandboxDebugDir: variable({
    name: 'SR_SANDBOX_DEBUG_DIR',
    group: 'sandbox',
    schema: text.optional(),
    default: 'unset',
    description: "copy each run's raw evidence (trace, sink logs) here, for debugging the sandbox",
  }),
  executor: variable({
    name: 'SR_EXECUTOR',
    group: 'sandbox',
    schema: z.enum(['local', 'github'], 'expected "local" or "github"').optional(),
    default: 'local',
    description:
      "where phases run: this machine's sandbox (local) or GitHub Actions jobs (github, SR_GITHUB_*)",
  }),
  githubRepository: variable({
    name: 'SR_GITHUB_REPOSITORY',
    group: 'sandbox',
    schema: z
      .string()
      .regex(/^[\w.-]+\/[\w.-]+$/, 'expected owner/name')
      .optional(),
    default: 'unset',
    description: 'the analysis repository (owner/name) the github executor dispatches to',
  }),
  githubToken: variable({
    name: 'SR_GITHUB_TOKEN',
    group: 'sandbox',
    schema: text.optional(),
    default: 'unset',
    description: 'token for the analysis repository: actions:write and contents:read, nothing else',
  }),
  githubWorkflow: variable({
    name: 'SR_GITHUB_WORKFLOW',
    group: 'sandbox',
    schema: text.optional(),
    default: 'analyze-package.yml',
    description: 'the analysis workflow (file name or id)',
  }),
  githubMaxJobs: variable({
    name: 'SR_GITHUB_MAX_JOBS',
    group: 'sandbox',
    schema: integer(1, 1000).optional(),
    default: '20',
    description: 'GitHub Actions jobs in flight at once',
  }),
  githubBatch: variable({
    name: 'SR_GITHUB_BATCH',
    group: 'sandbox',
    schema: integer(1, 256).optional(),
    default: '16',
    description:
      'packages per GitHub Actions job for the import and browser phases (run together in one sandbox; 1: one job each)',
  }),
  githubApiUrl: variable({
    name: 'SR_GITHUB_API_URL',
    group: 'sandbox',
    schema: httpUrl.optional(),
    default: 'https://api.github.com',
    description: 'the GitHub REST API (GitHub Enterprise Server: https://HOST/api/v3)',
  }),
  publicUrl: variable({
    name: 'SR_PUBLIC_URL',
    group: 'server',
    schema: httpUrl.optional(),
    default: 'unset',
    description: 'the server as remote runners reach it (artifact download and result upload)',
  }),
  policyFile: variable({
    name: 'SR_POLICY_FILE',
    legacy: 'POLICY_FILE',
    group: 'verdict',
    schema: text.optional(),
    default: 'the built-in policy',
    description: 'verdict policy (JSON; see docs/policy.md)',
  }),
  llmProvider: variable({
    name: 'SR_LLM_PROVIDER',
    group: 'verdict',
    schema: z
      .string()
      .transform((value) => value.toLowerCase())
      .pipe(z.enum(['openai', 'anthropic', 'none'], 'expected openai or anthropic'))
      .optional(),
    default: 'none',
    description: 'openai or anthropic: turns the LLM investigator on (off: held packages go to people)',
  }),
  llmBaseUrl: variable({
    name: 'SR_LLM_BASE_URL',
    group: 'verdict',
    schema: httpUrl.optional(),
    default: "the provider's API",
    description: 'LLM provider endpoint',
  }),
  llmModel: variable({
    name: 'SR_LLM_MODEL',
    group: 'verdict',
    schema: text.optional(),
    default: 'gpt-4.1-mini / claude-sonnet-4-5',
    description: 'LLM model name',
  }),
  openaiApiKey: variable({
    name: 'OPENAI_API_KEY',
    group: 'external',
    schema: text.optional(),
    default: 'unset',
    description: 'key for the openai provider (optional with a custom SR_LLM_BASE_URL)',
  }),
  anthropicApiKey: variable({
    name: 'ANTHROPIC_API_KEY',
    group: 'external',
    schema: text.optional(),
    default: 'unset',
    description: 'key for the anthropic provider (optional with a custom SR_LLM_BASE_URL)',
  }),
  awsAccessKeyId: variable({
    name: 'AWS_ACCESS_KEY_ID',
    group: 'external',
    schema: text.optional(),
    default: "unset: the AWS SDK's chain (profile, SSO, instance role)",
    description: 'S3 store credentials, with AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN); never logged',
  }),
  awsSecretAccessKey: variable({
    name: 'AWS_SECRET_ACCESS_KEY',
    group: 'external',
    schema: text.optional(),
    default: 'unset',
    description: 'the secret of AWS_ACCESS_KEY_ID',
  }),
  awsSessionToken: variable({
    name: 'AWS_SESSION_TOKEN',
    group: 'external',
    schema: text.optional(),
    default: 'unset',
    description: 'session token of temporary AWS credentials',
  }),
  awsRegion: variable({
    name: 'AWS_REGION',
    group: 'external',
    schema: text.optional(),
    default: 'unset',
    description: 'the default SR_S3_REGION',
  }),
  xdgDataHome: variable({
    name: 'XDG_DATA_HOME',
    group: 'external',
    schema: text.optional(),
    default: '~/.local/share',
    description: 'base of the default SR_DATA_DIR',
  }),
  npmConfigRegistry: variable({
    name: 'npm_config_registry',
    group: 'external',
    schema: httpUrl.optional(),
    default: 'unset',
    description: "npm's registry setting, the default SR_UPSTREAM_REGISTRY (also NPM_CONFIG_REGISTRY)",
  }),
} as const;

export type VariableKey = keyof typeof VARIABLES;

/** The parsed value of every variable; `undefined` where it is unset. */
export type ServerEnv = {
  [K in VariableKey]: (typeof VARIABLES)[K] extends Variable<infer T> ? T : never;
};
