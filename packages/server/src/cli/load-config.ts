import { parseServerConfig } from '../config/server-config.js';
import type { Env, ServerConfig } from '../config/server-config.js';

/** The configuration of a `secure-registry-server` command, parsed once; deprecation warnings go to stderr. */
export function loadConfig(env: Env, io: { stderr: (text: string) => void }): ServerConfig {
  const { config, warnings } = parseServerConfig(env, process.cwd());
  for (const warning of warnings) io.stderr(`warning: ${warning}\n`);
  return config;
}
