import { mkdir } from 'node:fs/promises';
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
