import Conf from 'conf';
import { UserError } from '@secure-registry/shared';
import type { Env, StoredConfig } from './target.js';

export type { Env, StoredConfig, Target } from './target.js';
export { defaultDataDir, resolveTarget } from './target.js';

/** The persistent CLI settings (`login` / `logout`), in the user's config dir or SECURE_REGISTRY_CONFIG_DIR. */
export function openConfigStore(env: Env = process.env): Conf<StoredConfig> {
  const cwd = env.SECURE_REGISTRY_CONFIG_DIR;
  return new Conf<StoredConfig>({
    projectName: 'secure-registry',
    projectSuffix: '',
    configFileMode: 0o600,
    ...(cwd ? { cwd } : {}),
  });
}

export function saveLogin(
  store: Conf<StoredConfig>,
  login: { server: string; token?: string | undefined },
): void {
  let url: URL;
  try {
    url = new URL(login.server);
  } catch {
    throw new UserError('ERR_SR_BAD_SERVER_URL', `not a valid server URL: ${JSON.stringify(login.server)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError('ERR_SR_BAD_SERVER_URL', `the server URL must be http(s): ${login.server}`);
  }
  store.set('server', url.href.replace(/\/+$/, ''));
  if (login.token) store.set('token', login.token);
  else store.delete('token');
}

export function clearLogin(store: Conf<StoredConfig>): boolean {
  const had = store.has('server') || store.has('token');
  store.delete('server');
  store.delete('token');
  return had;
}
