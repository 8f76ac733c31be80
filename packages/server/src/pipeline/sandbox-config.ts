// The dynamic stage's settings from the environment. Documented in the README ("Sandbox").
import { UserError } from '@secure-registry/shared';
import type { DynamicStageOptions } from './dynamic-stage.js';

function positiveInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new UserError('ERR_SR_CONFIG', `${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/**
 * `SANDBOX=off` turns the dynamic stage off (for tests that do not need it; packages are then judged
 * on static signals alone). On by default; `SANDBOX_TIMEOUT_MS`, `SANDBOX_GRACE_MS` and
 * `SANDBOX_CONCURRENCY` tune it.
 */
export function sandboxConfigFromEnv(env: NodeJS.ProcessEnv): DynamicStageOptions | false {
  const mode = (env.SANDBOX ?? 'on').trim().toLowerCase();
  if (mode === 'off' || mode === '0' || mode === 'false') return false;
  if (mode !== 'on' && mode !== '1' && mode !== 'true' && mode !== '') {
    throw new UserError('ERR_SR_CONFIG', `SANDBOX must be "on" or "off", got ${JSON.stringify(env.SANDBOX)}`);
  }
  const timeoutMs = positiveInt(env, 'SANDBOX_TIMEOUT_MS');
  const graceMs = positiveInt(env, 'SANDBOX_GRACE_MS');
  const concurrency = positiveInt(env, 'SANDBOX_CONCURRENCY');
  return {
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(graceMs !== undefined ? { graceMs } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
  };
}
