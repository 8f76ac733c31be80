import { z } from 'zod';
import type { Dispatcher } from 'undici';
import { ModelProtocolError } from './chat-model.js';
import type { ChatMessage, ChatModel, CompletionRequest, ModelTurn, ToolCall } from './chat-model.js';
import { joinUrl, postJson } from './http-json.js';

export const ANTHROPIC_VERSION = '2023-06-01';

const ContentBlock = z.union([
  z.object({ type: z.literal('text'), text: z.string() }),
  z.object({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: z.unknown() }),
  z.object({ type: z.string() }).loose(),
]);

/** The part of an Anthropic messages answer the investigator reads. */
const MessageResponse = z.object({
  content: z.array(ContentBlock),
  stop_reason: z.string().nullish(),
  usage: z
    .object({ input_tokens: z.number().nonnegative(), output_tokens: z.number().nonnegative() })
    .nullish(),
});

function toWire(messages: readonly ChatMessage[]): unknown[] {
  return messages.map((message) => {
    if (message.role === 'user') return { role: 'user', content: message.text };
    if (message.role === 'assistant') {
      return {
        role: 'assistant',
        content: [
          ...(message.text !== '' ? [{ type: 'text', text: message.text }] : []),
          ...message.toolCalls.map((call) => ({
            type: 'tool_use',
            id: call.id,
            name: call.name,
            input: call.arguments ?? {},
          })),
        ],
      };
    }
    return {
      role: 'user',
      content: message.results.map((result) => ({
        type: 'tool_result',
        tool_use_id: result.callId,
        content: result.content,
        ...(result.isError ? { is_error: true } : {}),
      })),
    };
  });
}

/** Anthropic's messages API (`POST {baseUrl}/v1/messages`) with tool use. */
export function createAnthropicModel(options: {
  baseUrl: string;
  model: string;
  apiKey?: string | undefined;
  dispatcher?: Dispatcher;
}): ChatModel {
  return {
    provider: 'anthropic',
    model: options.model,
    async complete(req: CompletionRequest): Promise<ModelTurn> {
      const json = await postJson({
        url: joinUrl(options.baseUrl, 'v1/messages'),
        headers: {
          'anthropic-version': ANTHROPIC_VERSION,
          ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}),
        },
        body: {
          model: options.model,
          max_tokens: req.maxOutputTokens,
          system: req.system,
          messages: toWire(req.messages),
          tools: req.tools.map((tool) => ({
            name: tool.name,
            description: tool.description,
            input_schema: tool.inputSchema,
          })),
          temperature: 0,
        },
        signal: req.signal,
        dispatcher: options.dispatcher,
      });
      const parsed = MessageResponse.safeParse(json);
      if (!parsed.success) {
        throw new ModelProtocolError(`not a messages answer: ${parsed.error.issues[0]?.message ?? ''}`);
      }
      const text: string[] = [];
      const toolCalls: ToolCall[] = [];
      for (const block of parsed.data.content) {
        if (block.type === 'text' && 'text' in block && typeof block.text === 'string') text.push(block.text);
        if (block.type === 'tool_use' && 'id' in block && 'name' in block) {
          const call = block as { id: string; name: string; input: unknown };
          toolCalls.push({
            id: call.id,
            name: call.name,
            arguments: call.input ?? {},
            rawArguments: JSON.stringify(call.input ?? {}),
          });
        }
      }
      const reason = parsed.data.stop_reason;
      const stop: ModelTurn['stop'] =
        reason === 'refusal'
          ? 'refusal'
          : toolCalls.length > 0
            ? 'tool_calls'
            : reason === 'max_tokens'
              ? 'length'
              : 'end';
      return {
        text: text.join('\n'),
        toolCalls,
        stop,
        ...(stop === 'refusal'
          ? { refusal: text.join('\n') || 'the model refused (stop_reason: refusal)' }
          : {}),
        usage: {
          input: parsed.data.usage?.input_tokens ?? 0,
          output: parsed.data.usage?.output_tokens ?? 0,
        },
      };
    },
  };
}
