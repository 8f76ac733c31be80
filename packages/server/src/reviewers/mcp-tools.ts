import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SERVER_VERSION } from '../version.js';
import type { ToolSpec } from './chat-model.js';

/**
 * Tools the investigator never offers the model: decisions are recorded by the investigator itself
 * under the policy, and queuing analyses is not an investigation.
 */
export const WITHHELD_TOOLS: ReadonlySet<string> = new Set(['record_decision', 'check_package']);

/** Largest tool result passed to the model, in characters. */
export const MAX_TOOL_RESULT_CHARS = 24_000;

export interface ToolOutcome {
  content: string;
  isError: boolean;
}

/** The MCP tools an investigation may call. */
export interface InvestigationTools {
  list(): ToolSpec[];
  call(name: string, args: unknown, signal: AbortSignal): Promise<ToolOutcome>;
  close(): Promise<void>;
}

function textOf(content: unknown): string {
  if (!Array.isArray(content)) return '';
  return content
    .map((part: { type?: unknown; text?: unknown }) =>
      part?.type === 'text' && typeof part.text === 'string' ? part.text : JSON.stringify(part),
    )
    .join('\n');
}

function truncate(text: string): string {
  return text.length <= MAX_TOOL_RESULT_CHARS
    ? text
    : `${text.slice(0, MAX_TOOL_RESULT_CHARS)}\n[truncated: ${text.length - MAX_TOOL_RESULT_CHARS} more characters]`;
}

/**
 * Connects to the server's MCP endpoint (streamable HTTP) as a client and lists its tools.
 * Tool failures come back as `isError` results, never as exceptions, so the model can adapt.
 */
export async function connectMcpTools(options: {
  url: string;
  token?: string | undefined;
  signal?: AbortSignal;
}): Promise<InvestigationTools> {
  const transport = new StreamableHTTPClientTransport(new URL(options.url), {
    ...(options.token ? { requestInit: { headers: { authorization: `Bearer ${options.token}` } } } : {}),
  });
  const client = new Client({ name: 'secure-registry-llm-investigator', version: SERVER_VERSION });
  await client.connect(transport, options.signal ? { signal: options.signal } : undefined);
  let tools: ToolSpec[];
  try {
    const listed = await client.listTools(undefined, options.signal ? { signal: options.signal } : undefined);
    tools = listed.tools
      .filter((tool) => !WITHHELD_TOOLS.has(tool.name))
      .map((tool) => ({
        name: tool.name,
        description: tool.description ?? tool.name,
        inputSchema: tool.inputSchema as Record<string, unknown>,
      }));
  } catch (error) {
    await client.close();
    throw error;
  }
  const offered = new Set(tools.map((tool) => tool.name));
  return {
    list: () => tools,
    async call(name, args, signal) {
      if (!offered.has(name)) {
        return {
          content: `unknown tool ${JSON.stringify(name)}; available: ${[...offered].join(', ')}`,
          isError: true,
        };
      }
      if (args === null || typeof args !== 'object' || Array.isArray(args)) {
        return { content: 'tool arguments must be a JSON object', isError: true };
      }
      try {
        const result = await client.callTool(
          { name, arguments: args as Record<string, unknown> },
          undefined,
          { signal },
        );
        return { content: truncate(textOf(result.content)), isError: result.isError === true };
      } catch (error) {
        if (signal.aborted) throw error;
        return {
          content: `tool ${name} failed: ${error instanceof Error ? error.message : String(error)}`,
          isError: true,
        };
      }
    },
    close: () => client.close(),
  };
}
