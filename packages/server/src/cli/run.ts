import { parseArgs } from 'node:util';
import { RemoteError, Role, SecureRegistryError, UserError, redact } from '@secure-registry/shared';
import { issueToken } from '../http/auth.js';
import { startServer } from '../start-server.js';
import { createStore } from '../storage/index.js';
import { SERVER_VERSION } from '../version.js';
import { environmentHelp } from '../config/config-help.js';
import type { Env } from '../config/server-config.js';
import { loadConfig } from './load-config.js';
import { reevaluateCommand } from './reevaluate.js';
import { advisoriesCommand } from './advisories.js';
import { githubCommand } from './github-init.js';

/** Exit codes of `secure-registry-server`. */
export const EXIT = {
  /** Success; the server stopped on SIGINT/SIGTERM. */
  ok: 0,
  /** An unexpected failure (a bug). */
  internal: 1,
  /** Bad usage or configuration: an unknown command or flag, a bad environment variable. */
  usage: 2,
  /**
   * A resource is unavailable: the database cannot be opened or migrated, the port is taken, a
   * remote source (an advisory URL) cannot be fetched.
   */
  unavailable: 3,
} as const;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  stopSignal: Promise<string>;
}

const USAGE = `Usage:
  secure-registry-server [serve]                       start the server (configured by environment)
  secure-registry-server token create --role <role> [--label <text>]
                                                       print a new API token (role: admin, reviewer, ci)
  secure-registry-server reevaluate [--policy <file>] [--all] [--dry-run] [--json]
                                                       re-decide stored verdicts under the current rules and policy
  secure-registry-server advisories import [--offline] [--json] <file|dir|url>...
                                                       reject what OSV malware advisories (MAL-) name
  secure-registry-server github init [--write-workflow DIR]
                                                       check the github executor's analysis repository and token
  secure-registry-server --version | --help

Environment (old names without SR_ still work, with a warning):
${environmentHelp()}
Exit codes: 0 ok, 1 unexpected failure, 2 usage or configuration error, 3 database, port or remote source unavailable,
4 \`github init\`: the analysis repository is not ready (each missing piece printed).
`;

export async function runCli(argv: readonly string[], env: Env, io: CliIo): Promise<number> {
  // Whether to print stack traces: read before anything else can fail.
  const debug = Boolean(env.SR_DEBUG ?? env.DEBUG);
  try {
    const [command, ...rest] = argv;
    if (command === '--help' || command === '-h' || command === 'help') {
      io.stdout(USAGE);
      return EXIT.ok;
    }
    if (command === '--version' || command === '-v') {
      io.stdout(`${SERVER_VERSION}\n`);
      return EXIT.ok;
    }
    if (command === undefined || command === 'serve') {
      if (rest.length > 0) throw usageError(`unexpected argument ${rest[0]}`);
      return await serve(env, io);
    }
    if (command === 'token') return await tokenCommand(rest, env, io);
    if (command === 'reevaluate') return await reevaluateCommand(rest, env, io);
    if (command === 'advisories') return await advisoriesCommand(rest, env, io);
    if (command === 'github') return await githubCommand(rest, env, io);
    throw usageError(`unknown command ${command}`);
  } catch (error) {
    return reportError(error, io, debug);
  }
}

function usageError(message: string): UserError {
  return new UserError('ERR_SR_USAGE', message, { hint: 'run `secure-registry-server --help`' });
}

async function serve(env: Env, io: CliIo): Promise<number> {
  const config = loadConfig(env, io);
  const { logLevel } = config;
  const server = await startServer({
    config,
    logger: logLevel === 'silent' ? false : { level: logLevel, redact: ['req.headers.authorization'] },
  });
  io.stderr(
    `secure-registry-server ${SERVER_VERSION} listening on ${server.url} ` +
      `(storage: ${server.store.kind}, auth: ${config.auth}, upstream: ${redact(config.upstream)})\n`,
  );
  const signal = await io.stopSignal;
  io.stderr(`received ${signal}, shutting down\n`);
  await server.close();
  return EXIT.ok;
}

async function tokenCommand(args: string[], env: Env, io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'create')
    throw usageError(
      sub === undefined ? 'token needs a subcommand: create' : `unknown token subcommand ${sub}`,
    );
  let values: { role?: string | undefined; label?: string | undefined };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { role: { type: 'string' }, label: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw usageError(error instanceof Error ? error.message : String(error));
  }
  const role = Role.safeParse(values.role);
  if (!role.success) throw usageError(`--role must be one of ${Role.options.join(', ')}`);
  if (values.label !== undefined && values.label.length > 200)
    throw usageError('--label is longer than 200 characters');
  const { dataDir, databaseUrl } = loadConfig(env, io);
  const store = await createStore({ dataDir, databaseUrl });
  try {
    const { token, record } = await issueToken(store, { role: role.data, label: values.label });
    io.stdout(`${token}\n`);
    io.stderr(
      `created ${record.role} token ${record.id}${record.label ? ` (${record.label})` : ''}; it is shown only once\n`,
    );
  } finally {
    await store.close();
  }
  return EXIT.ok;
}

const UNAVAILABLE_CODES = new Set([
  'EADDRINUSE',
  'EACCES',
  'EADDRNOTAVAIL',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EROFS',
]);

function reportError(error: unknown, io: CliIo, debug: boolean): number {
  if (error instanceof UserError) {
    io.stderr(`error: ${redact(error.message)}\n${error.hint ? `hint: ${redact(error.hint)}\n` : ''}`);
    return EXIT.usage;
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = redact(error instanceof Error ? error.message : String(error));
  if (
    error instanceof RemoteError ||
    (error instanceof SecureRegistryError && error.code.startsWith('ERR_SR_DATABASE'))
  ) {
    io.stderr(`error: ${message}\n${error.hint ? `hint: ${redact(error.hint)}\n` : ''}`);
    return EXIT.unavailable;
  }
  if (
    typeof code === 'string' &&
    (UNAVAILABLE_CODES.has(code) || code.startsWith('28') || code.startsWith('3D'))
  ) {
    io.stderr(`error: ${message}\n`);
    return EXIT.unavailable;
  }
  io.stderr(`error: ${message}\n`);
  if (debug && error instanceof Error && error.stack) io.stderr(`${redact(error.stack)}\n`);
  return EXIT.internal;
}
