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

export function createChatModel(config: LlmConfig, dispatcher?: Dispatcher): ChatModel {
  const options = {
    baseUrl: config.baseUrl,
    model: config.model,
    apiKey: config.apiKey,
    ...(dispatcher ? { dispatcher } : {}),
  };
  return config.provider === 'openai' ? createOpenAiModel(options) : createAnthropicModel(options);
}
