import { mkdir } from 'node:fs/promises';
import { sandboxSupportOnce } from '@secure-registry/analyzer';
import { RemoteError } from '@secure-registry/shared';

/** The public entry point of @secure-registry/server used by local mode. */
export interface StartServerOptions {
  host: string;
  port: number;
  dataDir: string;
  upstream: string;
  auth: 'none';
  logger: false;
  /** The server reads its SR_* settings (sandbox, policy, LLM) from this environment. */
  env: Readonly<Record<string, string | undefined>>;
}
export interface RunningServer {
  url: string;
  close(): Promise<void>;
}
type StartServer = (options: StartServerOptions) => Promise<RunningServer>;

/**
 * Whether the local server would run the sandbox on this machine: SR_SANDBOX (or the old SANDBOX)
 * not off, and SR_EXECUTOR not `github` (phases then run on GitHub Actions runners).
 */
function wantsLocalSandbox(env: Readonly<Record<string, string | undefined>>): boolean {
  const sandbox = (env.SR_SANDBOX ?? env.SANDBOX ?? 'on').toLowerCase();
  return !['off', '0', 'false'].includes(sandbox) && env.SR_EXECUTOR !== 'github';
}

/**
 * A machine that cannot run the sandbox cannot vet anything: one line with the way out, before a
 * server starts and holds every package "could not run" (the server's own check, cached per
 * process, then costs nothing).
 */
async function requireSandbox(env: Readonly<Record<string, string | undefined>>): Promise<void> {
  if (!wantsLocalSandbox(env)) return;
  const support = await sandboxSupportOnce();
  if (support.ok) return;
  throw new RemoteError(
    'ERR_SR_SANDBOX_UNAVAILABLE',
    `the sandbox cannot run on this machine (missing: ${support.missing.join(', ')}): scan against a hosted server (secure-registry login --server URL --token T), use a server with SR_EXECUTOR=github, or run \`secure-registry setup\``,
  );
}

/** Starts the secure-registry server in this process on 127.0.0.1 (an ephemeral port), tokenless. */
export async function startLocalServer(options: {
  dataDir: string;
  upstream: string;
  env: Readonly<Record<string, string | undefined>>;
}): Promise<RunningServer> {
  let startServer: StartServer | undefined;
  try {
    const module = (await import('@secure-registry/server')) as { startServer?: StartServer };
    startServer = module.startServer;
  } catch (error) {
    throw new RemoteError(
      'ERR_SR_LOCAL_SERVER',
      `cannot load the local server: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  if (typeof startServer !== 'function') {
    throw new RemoteError(
      'ERR_SR_LOCAL_SERVER',
      'this build of @secure-registry/server has no startServer()',
      {
        hint: 'use a hosted server: `secure-registry login --server URL --token T` or SECURE_REGISTRY_SERVER',
      },
    );
  }
  await requireSandbox(options.env);
  await mkdir(options.dataDir, { recursive: true });
  try {
    return await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir: options.dataDir,
      upstream: options.upstream,
      auth: 'none',
      logger: false,
      env: options.env,
    });
  } catch (error) {
    throw new RemoteError(
      'ERR_SR_LOCAL_SERVER',
      `the local server failed to start: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}
