import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted answer: a JSON body (status 200 unless given), raw text, or silence (timeout tests). */
export type ScriptedReply =
  { json: unknown; status?: number } | { raw: string; status?: number } | { hang: true };

export type ScriptStep = ScriptedReply | ((request: RecordedRequest) => ScriptedReply);

export interface RecordedRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

export interface ScriptedModel {
  /** Base URL without a trailing slash: `http://127.0.0.1:<port>`. */
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1 that plays a model endpoint: each POST gets the next scripted
 * reply, whatever the path (the tests check the path and body). Unscripted requests get 500.
 */
export async function startScriptedModel(script: ScriptStep[]): Promise<ScriptedModel> {
  const requests: RecordedRequest[] = [];
  let next = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        body = {};
      }
      const recorded = { path: req.url ?? '', headers: req.headers, body };
      requests.push(recorded);
      const step = script[next++];
      if (!step) {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"script exhausted"}');
        return;
      }
      const reply = typeof step === 'function' ? step(recorded) : step;
      if ('hang' in reply) return;
      const text = 'json' in reply ? JSON.stringify(reply.json) : reply.raw;
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' }).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An OpenAI chat-completions answer that calls tools. */
export function openAiToolCalls(
  calls: { id: string; name: string; args: unknown }[],
  usage = { in: 100, out: 20 },
) {
  return {
    json: {
      id: 'chatcmpl-test',
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          finish_reason: 'tool_calls',
          message: {
            role: 'assistant',
            content: null,
            tool_calls: calls.map((call) => ({
              id: call.id,
              type: 'function',
              function: {
                name: call.name,
                arguments: typeof call.args === 'string' ? call.args : JSON.stringify(call.args),
              },
            })),
          },
        },
      ],
      usage: { prompt_tokens: usage.in, completion_tokens: usage.out, total_tokens: usage.in + usage.out },
    },
  };
}

/** An OpenAI chat-completions answer with final text. */
export function openAiText(content: string, extra: { refusal?: string; finish?: string } = {}) {
  return {
    json: {
      id: 'chatcmpl-test',
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          finish_reason: extra.finish ?? 'stop',
          message: { role: 'assistant', content, ...(extra.refusal ? { refusal: extra.refusal } : {}) },
        },
      ],
      usage: { prompt_tokens: 120, completion_tokens: 40, total_tokens: 160 },
    },
  };
}

/** An Anthropic messages answer. */
export function anthropicMessage(
  content: (
    { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown }
  )[],
  stopReason: string,
) {
  return {
    json: {
      id: 'msg_test',
      type: 'message',
      role: 'assistant',
      model: 'claude-test',
      content,
      stop_reason: stopReason,
      usage: { input_tokens: 150, output_tokens: 30 },
    },
  };
}
