import { homedir } from 'node:os';
import { join } from 'node:path';
import Conf from 'conf';
import { UserError } from '@secure-registry/shared';

export interface StoredConfig {
  server?: string;
  token?: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

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

export type Target =
  | { mode: 'hosted'; server: string; token: string | undefined; origin: 'env' | 'config' }
  | { mode: 'local'; dataDir: string };

/** Hosted when a server is configured (env wins over the stored login), otherwise local. */
export function resolveTarget(stored: StoredConfig, env: Env = process.env): Target {
  const envServer = env.SECURE_REGISTRY_SERVER?.trim();
  const token = env.SECURE_REGISTRY_TOKEN?.trim() || stored.token;
  if (envServer) return { mode: 'hosted', server: envServer, token, origin: 'env' };
  if (stored.server) return { mode: 'hosted', server: stored.server, token, origin: 'config' };
  return { mode: 'local', dataDir: defaultDataDir(env) };
}

/** Where local mode keeps its database and artifacts (env-paths conventions). */
export function defaultDataDir(env: Env = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.SECURE_REGISTRY_DATA_DIR) return env.SECURE_REGISTRY_DATA_DIR;
  const home = env.HOME || homedir();
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'secure-registry');
  if (platform === 'win32') {
    return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'secure-registry', 'Data');
  }
  return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'secure-registry');
}
