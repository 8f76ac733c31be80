import { request } from 'undici';
import { loadScaledTimeout } from '@secure-registry/shared';

export interface SseMessage {
  id: string | undefined;
  event: string | undefined;
  data: unknown;
}

/** Reads an SSE stream to its end (or until `stopAfter` says so); returns messages and comments. */
export async function readSse(
  url: string,
  options: {
    headers?: Record<string, string>;
    stopAfter?: (message: SseMessage) => boolean;
    timeoutMs?: number;
  } = {},
): Promise<{ status: number; contentType: string | undefined; messages: SseMessage[]; comments: string[] }> {
  const controller = new AbortController();
  const cancel = loadScaledTimeout(options.timeoutMs ?? 15_000, (budget) =>
    controller.abort(new Error(`SSE read timed out (${budget.describe()})`)),
  );
  const response = await request(url, { headers: options.headers ?? {}, signal: controller.signal });
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  let buffer = '';
  try {
    if (response.statusCode !== 200) {
      await response.body.text();
      return { status: response.statusCode, contentType: undefined, messages, comments };
    }
    outer: for await (const chunk of response.body) {
      buffer += Buffer.from(chunk as Uint8Array).toString('utf8');
      let index: number;
      while ((index = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, index);
        buffer = buffer.slice(index + 2);
        const message: SseMessage = { id: undefined, event: undefined, data: undefined };
        let isMessage = false;
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) comments.push(line.slice(1).trim());
          else if (line.startsWith('id: ')) {
            message.id = line.slice(4);
            isMessage = true;
          } else if (line.startsWith('event: ')) message.event = line.slice(7);
          else if (line.startsWith('data: ')) message.data = JSON.parse(line.slice(6));
        }
        if (isMessage) {
          messages.push(message);
          if (options.stopAfter?.(message)) {
            response.body.destroy();
            break outer;
          }
        }
      }
    }
  } finally {
    cancel();
  }
  return {
    status: response.statusCode,
    contentType: String(response.headers['content-type']),
    messages,
    comments,
  };
}
