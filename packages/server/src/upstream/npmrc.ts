import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_UPSTREAM = 'https://registry.npmjs.org/';

/** The `registry=` value of an npmrc text, if any (comments and other keys ignored). */
export function parseNpmrcRegistry(text: string): string | undefined {
  let found: string | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line.startsWith('#') || line.startsWith(';')) continue;
    const match = /^registry\s*=\s*(.+)$/.exec(line);
    if (match) found = match[1]!.trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  return found;
}

function readRegistryFrom(file: string): string | undefined {
  try {
    return parseNpmrcRegistry(readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The registry npm is configured with, in npm's precedence: the `npm_config_registry` environment
 * variable, the project `.npmrc` (in `cwd`), the user `~/.npmrc`; else the public registry.
 */
export function configuredRegistry(options: { env: NodeJS.ProcessEnv; cwd: string; home?: string }): string {
  const fromEnv = options.env.npm_config_registry ?? options.env.NPM_CONFIG_REGISTRY;
  if (fromEnv) return fromEnv;
  return (
    readRegistryFrom(join(options.cwd, '.npmrc')) ??
    readRegistryFrom(join(options.home ?? homedir(), '.npmrc')) ??
    DEFAULT_UPSTREAM
  );
}
