import type { ApiClientOptions } from '../api-client.js';
import { ApiClient } from '../api-client.js';
import type { Env } from './config.js';
import { openConfigStore, resolveTarget } from './config.js';
import { startLocalServer } from './local-server.js';
import { resolveUpstream } from './upstream.js';

/** A connection to a secure-registry server: the configured hosted one, or a local one started here. */
export interface ServerSession {
  mode: 'hosted' | 'local';
  /** Base URL of the server (no trailing slash). */
  url: string;
  token: string | undefined;
  client: ApiClient;
  close(): Promise<void>;
}

/**
 * Connects like `scan` does: hosted when a server is configured (SECURE_REGISTRY_SERVER or the
 * stored login), otherwise a local server in this process on 127.0.0.1 over the user's data dir.
 */
export async function openServerSession(options: {
  env: Env;
  projectDir: string;
  upstream?: string | undefined;
  timeoutMs?: ApiClientOptions['timeoutMs'];
}): Promise<ServerSession> {
  const target = resolveTarget(openConfigStore(options.env).store, options.env);
  const timeout = options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {};
  if (target.mode === 'hosted') {
    const client = new ApiClient({ server: target.server, token: target.token, ...timeout });
    return { mode: 'hosted', url: client.server, token: target.token, client, close: () => client.close() };
  }
  const upstream = await resolveUpstream({
    flag: options.upstream,
    projectDir: options.projectDir,
    env: options.env,
  });
  const local = await startLocalServer({ dataDir: target.dataDir, upstream, env: options.env });
  const client = new ApiClient({ server: local.url, ...timeout });
  return {
    mode: 'local',
    url: client.server,
    token: undefined,
    client,
    async close() {
      await client.close();
      await local.close();
    },
  };
}
