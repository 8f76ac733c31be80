import { z } from 'zod';
import type { Dispatcher } from 'undici';
import { ModelProtocolError, parseArguments } from './chat-model.js';
import type { ChatMessage, ChatModel, CompletionRequest, ModelTurn, ToolCall } from './chat-model.js';
import { joinUrl, postJson } from './http-json.js';

/** The part of an OpenAI chat-completions answer the investigator reads. */
const ChatCompletion = z.object({
  choices: z
    .array(
      z.object({
        finish_reason: z.string().nullish(),
        message: z.object({
          content: z.string().nullish(),
          refusal: z.string().nullish(),
          tool_calls: z
            .array(
              z.object({
                id: z.string(),
                type: z.string().optional(),
                function: z.object({ name: z.string(), arguments: z.string().nullish() }),
              }),
            )
            .nullish(),
        }),
      }),
    )
    .min(1),
  usage: z
    .object({ prompt_tokens: z.number().nonnegative(), completion_tokens: z.number().nonnegative() })
    .nullish(),
});

function toWire(system: string, messages: readonly ChatMessage[]): unknown[] {
  const wire: unknown[] = [{ role: 'system', content: system }];
  for (const message of messages) {
    if (message.role === 'user') wire.push({ role: 'user', content: message.text });
    else if (message.role === 'assistant') {
      wire.push({
        role: 'assistant',
        content: message.text === '' ? null : message.text,
        ...(message.toolCalls.length > 0
          ? {
              tool_calls: message.toolCalls.map((call) => ({
                id: call.id,
                type: 'function',
                function: { name: call.name, arguments: call.rawArguments },
              })),
            }
          : {}),
      });
    } else {
      for (const result of message.results) {
        wire.push({ role: 'tool', tool_call_id: result.callId, content: result.content });
      }
    }
  }
  return wire;
}

/**
 * An OpenAI-compatible chat-completions endpoint (`POST {baseUrl}/chat/completions`) with
 * function calling: OpenAI itself, Azure-style proxies, vLLM, Ollama, LM Studio.
 */
export function createOpenAiModel(options: {
  baseUrl: string;
  model: string;
  apiKey?: string | undefined;
  dispatcher?: Dispatcher;
}): ChatModel {
  return {
    provider: 'openai',
    model: options.model,
    async complete(req: CompletionRequest): Promise<ModelTurn> {
      const json = await postJson({
        url: joinUrl(options.baseUrl, 'chat/completions'),
        headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
        body: {
          model: options.model,
          messages: toWire(req.system, req.messages),
          tools: req.tools.map((tool) => ({
            type: 'function',
            function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
          })),
          tool_choice: 'auto',
          max_tokens: req.maxOutputTokens,
          temperature: 0,
        },
        signal: req.signal,
        dispatcher: options.dispatcher,
      });
      const parsed = ChatCompletion.safeParse(json);
      if (!parsed.success) {
        throw new ModelProtocolError(
          `not a chat-completions answer: ${parsed.error.issues[0]?.message ?? ''}`,
        );
      }
      const choice = parsed.data.choices[0]!;
      const toolCalls: ToolCall[] = (choice.message.tool_calls ?? []).map((call) => {
        const raw = call.function.arguments ?? '';
        const args = parseArguments(raw);
        return {
          id: call.id,
          name: call.function.name,
          arguments: args.value,
          rawArguments: raw,
          ...(args.error ? { argumentsError: args.error } : {}),
        };
      });
      const refusal = choice.message.refusal ?? undefined;
      const stop: ModelTurn['stop'] =
        refusal || choice.finish_reason === 'content_filter'
          ? 'refusal'
          : toolCalls.length > 0
            ? 'tool_calls'
            : choice.finish_reason === 'length'
              ? 'length'
              : 'end';
      return {
        text: choice.message.content ?? '',
        toolCalls,
        stop,
        ...(stop === 'refusal'
          ? { refusal: refusal ?? 'the provider filtered the answer (content_filter)' }
          : {}),
        usage: {
          input: parsed.data.usage?.prompt_tokens ?? 0,
          output: parsed.data.usage?.completion_tokens ?? 0,
        },
      };
    },
  };
}
