/**
 * Where a command goes (hosted server or local mode) and the stored login it reads, without
 * loading Conf and its JSON-schema validator: a scan only reads the login (`config.ts` writes it).
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface StoredConfig {
  server?: string;
  token?: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The file Conf keeps the login in (`openConfigStore`): `config.json` in SECURE_REGISTRY_CONFIG_DIR,
 * else in env-paths' config directory for `secure-registry` (env-paths reads process.env).
 */
export function configFilePath(env: Env = process.env, platform: NodeJS.Platform = process.platform): string {
  const dir = env.SECURE_REGISTRY_CONFIG_DIR;
  if (dir) return resolve(dir, 'config.json');
  const home = homedir();
  const name = 'secure-registry';
  const base =
    platform === 'darwin'
      ? join(home, 'Library', 'Preferences', name)
      : platform === 'win32'
        ? join(process.env.APPDATA || join(home, 'AppData', 'Roaming'), name, 'Config')
        : join(process.env.XDG_CONFIG_HOME || join(home, '.config'), name);
  return resolve(base, 'config.json');
}

/** The stored login as Conf reads it; anything but a missing file or a plain JSON object is left to Conf. */
export async function readStoredConfig(env: Env = process.env): Promise<StoredConfig> {
  let text: string | undefined;
  try {
    text = await readFile(configFilePath(env), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
  }
  if (text !== undefined) {
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as StoredConfig;
    } catch {
      // Conf reports it
    }
  }
  const { openConfigStore } = await import('./config.js');
  return openConfigStore(env).store;
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
