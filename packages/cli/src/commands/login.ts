import { UserError } from '@secure-registry/shared';
import { clearLogin, openConfigStore, saveLogin } from '../services/config.js';
import type { CommandIo } from './io.js';

/**
 * `secure-registry login --server URL [--token T]`: checks the token against the server (a refused
 * token exits 3 and stores nothing), then stores the hosted server for later scans.
 */
export async function runLogin(flags: { server?: string; token?: string }, io: CommandIo): Promise<number> {
  if (!flags.server) throw new UserError('ERR_SR_USAGE', 'login needs --server URL');
  const token = flags.token ?? io.env.SECURE_REGISTRY_TOKEN;
  const { ApiClient } = await import('../api-client.js');
  const client = new ApiClient({ server: flags.server, token });
  try {
    await client.whoami();
  } finally {
    await client.close();
  }
  const store = openConfigStore(io.env);
  saveLogin(store, { server: flags.server, token });
  io.stdout.write(
    `logged in to ${store.get('server')}${token ? ' with a token' : ' without a token'} (saved in ${store.path})\n`,
  );
  return 0;
}

/** `secure-registry logout`: forgets the stored server and token; scans go back to local mode. */
export function runLogout(io: CommandIo): number {
  const store = openConfigStore(io.env);
  const had = clearLogin(store);
  io.stdout.write(had ? 'logged out; scans now use local mode\n' : 'not logged in\n');
  return 0;
}
