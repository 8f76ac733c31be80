import { loadScaledTimeout } from '@secure-registry/shared';
/** One Server-Sent Event frame. */
export interface SseFrame {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

/** Parses complete SSE frames out of `buffer`; returns them and the unparsed rest. */
export function parseSseFrames(buffer: string): { frames: SseFrame[]; rest: string } {
  const frames: SseFrame[] = [];
  const blocks = buffer.split(/\r?\n\r?\n/);
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let id: string | undefined;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0 || event !== undefined) frames.push({ id, event, data: data.join('\n') });
  }
  return { frames, rest };
}

/**
 * Reads an SSE stream until `stop(frame)` says so, the server ends it, or `timeoutMs` passes.
 * Returns the frames read (including the one that stopped it).
 */
export async function readSse(
  url: string,
  options: { headers?: Record<string, string>; stop?: (frame: SseFrame) => boolean; timeoutMs?: number } = {},
): Promise<SseFrame[]> {
  const controller = new AbortController();
  const cancel = loadScaledTimeout(options.timeoutMs ?? 60_000, () => controller.abort());
  const frames: SseFrame[] = [];
  try {
    const res = await fetch(url, {
      headers: { accept: 'text/event-stream', ...options.headers },
      signal: controller.signal,
    });
    if (res.status !== 200 || !res.body)
      throw new Error(`SSE ${url}: HTTP ${res.status} ${await res.text()}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      const parsed = parseSseFrames(buffer);
      buffer = parsed.rest;
      for (const frame of parsed.frames) {
        frames.push(frame);
        if (options.stop?.(frame)) {
          controller.abort();
          return frames;
        }
      }
    }
    return frames;
  } catch (error) {
    if (controller.signal.aborted && frames.length > 0 && options.stop?.(frames[frames.length - 1]!))
      return frames;
    throw error;
  } finally {
    cancel();
  }
}
