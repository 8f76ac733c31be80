import { UserError } from '@secure-registry/shared';
import type { Dispatcher } from 'undici';
import { createAnthropicModel } from './anthropic-adapter.js';
import type { ChatModel } from './chat-model.js';
import { createOpenAiModel } from './openai-adapter.js';

export type LlmProvider = 'openai' | 'anthropic';

/** Which model the investigator talks to. */
export interface LlmConfig {
  provider: LlmProvider;
  baseUrl: string;
  model: string;
  apiKey: string | undefined;
}

export const LLM_DEFAULTS: Record<LlmProvider, { baseUrl: string; model: string; keyVar: string }> = {
  openai: { baseUrl: 'https://api.openai.com/v1', model: 'gpt-4.1-mini', keyVar: 'OPENAI_API_KEY' },
  anthropic: {
    baseUrl: 'https://api.anthropic.com',
    model: 'claude-sonnet-4-5',
    keyVar: 'ANTHROPIC_API_KEY',
  },
};

/** The environment variables of the LLM investigator, with their meaning (for --help and docs). */
export const LLM_ENV_HELP: readonly [string, string][] = [
  [
    'SR_LLM_PROVIDER',
    'openai or anthropic: turns the LLM investigator on (default: off, held packages go to people)',
  ],
  ['SR_LLM_BASE_URL', 'provider endpoint (default https://api.openai.com/v1 or https://api.anthropic.com)'],
  ['SR_LLM_MODEL', `model name (default ${LLM_DEFAULTS.openai.model} / ${LLM_DEFAULTS.anthropic.model})`],
  ['OPENAI_API_KEY', 'key for the openai provider (optional for a custom SR_LLM_BASE_URL)'],
  ['ANTHROPIC_API_KEY', 'key for the anthropic provider (optional for a custom SR_LLM_BASE_URL)'],
];

/** Environment variables of the verdict policy and the LLM investigator (for --help). */
export const VERDICT_ENV_HELP: readonly [string, string][] = [
  ['POLICY_FILE', 'verdict policy (JSON; see docs/policy.md); default: the built-in policy'],
  ...LLM_ENV_HELP,
];

function configError(name: string, message: string): UserError {
  return new UserError('ERR_SR_CONFIG', `${name}: ${message}`, {
    hint: 'see `secure-registry-server --help`',
  });
}

/** Reads the LLM configuration; undefined when `SR_LLM_PROVIDER` is unset (no investigator). */
export function llmConfigFromEnv(env: NodeJS.ProcessEnv): LlmConfig | undefined {
  const provider = env.SR_LLM_PROVIDER?.trim().toLowerCase();
  if (!provider || provider === 'none') return undefined;
  if (provider !== 'openai' && provider !== 'anthropic') {
    throw configError('SR_LLM_PROVIDER', `expected openai or anthropic, got ${JSON.stringify(provider)}`);
  }
  const defaults = LLM_DEFAULTS[provider];
  const rawUrl = env.SR_LLM_BASE_URL?.trim();
  let baseUrl = defaults.baseUrl;
  if (rawUrl) {
    try {
      const url = new URL(rawUrl);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
      baseUrl = url.href;
    } catch {
      throw configError('SR_LLM_BASE_URL', `expected an http(s) URL, got ${JSON.stringify(rawUrl)}`);
    }
  }
  const apiKey = env[defaults.keyVar]?.trim() || undefined;
  if (!apiKey && !rawUrl) {
    throw configError(defaults.keyVar, `required for SR_LLM_PROVIDER=${provider} with the default endpoint`);
  }
  return { provider, baseUrl, model: env.SR_LLM_MODEL?.trim() || defaults.model, apiKey };
}

export function createChatModel(config: LlmConfig, dispatcher?: Dispatcher): ChatModel {
  const options = {
    baseUrl: config.baseUrl,
    model: config.model,
    apiKey: config.apiKey,
    ...(dispatcher ? { dispatcher } : {}),
  };
  return config.provider === 'openai' ? createOpenAiModel(options) : createAnthropicModel(options);
}
