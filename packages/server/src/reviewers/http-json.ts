import { request } from 'undici';
import type { Dispatcher } from 'undici';
import { redact } from '@secure-registry/shared';
import { ModelProtocolError } from './chat-model.js';

/** Largest provider response read into memory. */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** POSTs JSON and returns the parsed JSON answer; HTTP errors and non-JSON bodies throw ModelProtocolError. */
export async function postJson(options: {
  url: string;
  headers: Record<string, string>;
  body: unknown;
  signal: AbortSignal;
  dispatcher?: Dispatcher | undefined;
}): Promise<unknown> {
  const response = await request(options.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...options.headers },
    body: JSON.stringify(options.body),
    signal: options.signal,
    ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
  });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_RESPONSE_BYTES) {
      response.body.destroy();
      throw new ModelProtocolError(
        `the provider's answer is larger than ${MAX_RESPONSE_BYTES} bytes`,
        response.statusCode,
      );
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (response.statusCode < 200 || response.statusCode >= 300) {
    throw new ModelProtocolError(
      `the provider answered HTTP ${response.statusCode}: ${redact(text.slice(0, 500))}`,
      response.statusCode,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ModelProtocolError(
      `the provider's answer is not JSON: ${JSON.stringify(text.slice(0, 200))}`,
      response.statusCode,
    );
  }
}

/** Joins a base URL and a path without doubling or dropping slashes. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
