import { availableParallelism, homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '@secure-registry/shared';
import { DEFAULT_BODY_LIMIT } from '../app.js';
import type { AuthMode } from '../http/auth.js';
import { DEFAULT_HOST, DEFAULT_LEASE_MS } from '../start-server.js';
import type { StartServerOptions } from '../start-server.js';
import { sandboxConfigFromEnv } from '../pipeline/sandbox-config.js';
import { configuredRegistry } from '../upstream/npmrc.js';

export const DEFAULT_PORT = 4874;

/** Every environment variable `secure-registry-server` reads, with its meaning (for --help). */
export const ENV_HELP: readonly [string, string][] = [
  ['PORT', `port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)`],
  ['HOST', `address to bind (default ${DEFAULT_HOST})`],
  [
    'DATA_DIR',
    'SQLite file and artifact store (default $XDG_DATA_HOME/secure-registry or ~/.local/share/secure-registry)',
  ],
  ['DATABASE_URL', 'postgres://… to use PostgreSQL instead of SQLite'],
  [
    'UPSTREAM_REGISTRY',
    'upstream npm registry (default: registry= of ./.npmrc or ~/.npmrc, else registry.npmjs.org)',
  ],
  [
    'CONCURRENCY',
    'artifacts analysed at the same time (default: 1024 with the sandbox on, else min(4, CPUs))',
  ],
  ['AUTH', 'token (default) or none; none is refused unless HOST is 127.0.0.1 or ::1'],
  ['BODY_LIMIT', `largest request body in bytes (default ${DEFAULT_BODY_LIMIT}); larger ones get 413`],
  [
    'JOB_LEASE_MS',
    `job lease in milliseconds (default ${DEFAULT_LEASE_MS}); a dead worker's job is reclaimed after it`,
  ],
  ['VET_ON_DEMAND', '1 to queue analysis when the registry is asked for a never-vetted tarball (default 0)'],
  ['LOG_LEVEL', 'fatal, error, warn, info (default), debug, trace or silent'],
];

function configError(name: string, message: string): UserError {
  return new UserError('ERR_SR_CONFIG', `${name}: ${message}`, {
    hint: 'see `secure-registry-server --help`',
  });
}

function integer(
  env: NodeJS.ProcessEnv,
  name: string,
  range: { min: number; max: number },
): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const text = raw.trim();
  if (!/^\d+$/.test(text)) throw configError(name, `expected an integer, got ${JSON.stringify(raw)}`);
  const value = Number(text);
  if (value < range.min || value > range.max) {
    throw configError(name, `expected ${range.min}..${range.max}, got ${value}`);
  }
  return value;
}

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** The default data directory: `$XDG_DATA_HOME/secure-registry`, else `~/.local/share/secure-registry`. */
export function defaultDataDir(env: NodeJS.ProcessEnv, home = homedir()): string {
  const xdg = env.XDG_DATA_HOME?.trim();
  return join(xdg ? xdg : join(home, '.local', 'share'), 'secure-registry');
}

export interface DataOptions {
  dataDir: string;
  databaseUrl: string | undefined;
}

export function parseDataEnv(env: NodeJS.ProcessEnv, cwd: string): DataOptions {
  const dataDir = env.DATA_DIR?.trim() ? resolve(cwd, env.DATA_DIR.trim()) : defaultDataDir(env);
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    throw configError('DATABASE_URL', 'expected a postgres:// or postgresql:// URL');
  }
  return { dataDir, databaseUrl };
}

/** Reads the server configuration from the environment. Throws a UserError naming the bad variable. */
export function parseServeEnv(
  env: NodeJS.ProcessEnv,
  cwd: string,
): StartServerOptions & { logLevel: string } {
  const host = env.HOST?.trim() || DEFAULT_HOST;
  const port = integer(env, 'PORT', { min: 0, max: 65535 }) ?? DEFAULT_PORT;
  const concurrency =
    integer(env, 'CONCURRENCY', { min: 1, max: 256 }) ??
    (sandboxConfigFromEnv(env) === false ? Math.min(4, availableParallelism()) : undefined);
  const authRaw = env.AUTH?.trim() || 'token';
  if (authRaw !== 'none' && authRaw !== 'token')
    throw configError('AUTH', `expected none or token, got ${JSON.stringify(authRaw)}`);
  const auth: AuthMode = authRaw;
  const upstreamRaw = env.UPSTREAM_REGISTRY?.trim() || configuredRegistry({ env, cwd });
  let upstream: string;
  try {
    const url = new URL(upstreamRaw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    upstream = url.href;
  } catch {
    throw configError('UPSTREAM_REGISTRY', `expected an http(s) URL, got ${JSON.stringify(upstreamRaw)}`);
  }
  const vetRaw = env.VET_ON_DEMAND?.trim() || '0';
  if (vetRaw !== '0' && vetRaw !== '1')
    throw configError('VET_ON_DEMAND', `expected 0 or 1, got ${JSON.stringify(vetRaw)}`);
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!LOG_LEVELS.has(logLevel))
    throw configError('LOG_LEVEL', `expected one of ${[...LOG_LEVELS].join(', ')}`);
  return {
    host,
    port,
    concurrency,
    auth,
    upstream,
    ...parseDataEnv(env, cwd),
    bodyLimit: integer(env, 'BODY_LIMIT', { min: 1024, max: 2 ** 31 - 1 }),
    leaseMs: integer(env, 'JOB_LEASE_MS', { min: 500, max: 24 * 3600 * 1000 }),
    vetOnDemand: vetRaw === '1',
    logLevel,
  };
}
