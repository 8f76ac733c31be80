import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '@secure-registry/shared';
import type { Env } from './config.js';

export const NPM_DEFAULT_REGISTRY = 'https://registry.npmjs.org/';

/** The `registry` value in npmrc text, or undefined. Handles comments and `${ENV}` expansion. */
export function registryFromNpmrc(text: string, env: Env): string | undefined {
  let found: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const match = /^registry\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[1]!.trim().replace(/^(['"])(.*)\1$/, '$2');
    value = value.replace(/\$\{([^}]+)\}/g, (_m, name: string) => env[name] ?? '');
    if (value) found = value;
  }
  return found;
}

/**
 * The upstream registry for local mode: `--upstream`, then SECURE_REGISTRY_UPSTREAM, then the
 * registry npm is configured with (env `npm_config_registry`, the project's .npmrc, the user's
 * ~/.npmrc), then the public registry. Reads the config files; does not run npm.
 */
export async function resolveUpstream(options: {
  flag?: string | undefined;
  projectDir: string;
  env: Env;
}): Promise<string> {
  const { env } = options;
  const explicit = options.flag ?? env.SECURE_REGISTRY_UPSTREAM;
  if (explicit) return validateUpstream(explicit);
  const fromEnv = env.npm_config_registry ?? env.NPM_CONFIG_REGISTRY;
  if (fromEnv) return validateUpstream(fromEnv);
  const userConfig =
    env.npm_config_userconfig ?? env.NPM_CONFIG_USERCONFIG ?? join(env.HOME || homedir(), '.npmrc');
  for (const file of [join(options.projectDir, '.npmrc'), userConfig]) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    const registry = text === undefined ? undefined : registryFromNpmrc(text, env);
    if (registry) return validateUpstream(registry);
  }
  return NPM_DEFAULT_REGISTRY;
}

function validateUpstream(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UserError('ERR_SR_BAD_UPSTREAM', `not a valid upstream registry URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError('ERR_SR_BAD_UPSTREAM', `the upstream registry must be http(s): ${value}`);
  }
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}
