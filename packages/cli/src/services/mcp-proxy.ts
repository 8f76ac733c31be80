/**
 * `secure-registry mcp`: an MCP server on stdio that forwards every tool listing and call to the
 * server's `/mcp` endpoint (streamable HTTP) with the configured token. It holds no tools of its
 * own, so the CLI never needs the server's internals.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { RemoteError, redact } from '@secure-registry/shared';

export interface McpProxy {
  server: Server;
  remote: Client;
  close(): Promise<void>;
}

const CLI_MCP_VERSION = '0.1.0';

/** Connects to `<url>/mcp` and builds the forwarding server (not yet connected to a transport). */
export async function createMcpProxy(options: { url: string; token: string | undefined }): Promise<McpProxy> {
  const endpoint = new URL(`${options.url.replace(/\/+$/, '')}/mcp`);
  const transport = new StreamableHTTPClientTransport(endpoint, {
    ...(options.token ? { requestInit: { headers: { authorization: `Bearer ${options.token}` } } } : {}),
  });
  const remote = new Client({ name: 'secure-registry-cli', version: CLI_MCP_VERSION });
  try {
    await remote.connect(transport);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const status = (error as { code?: unknown }).code;
    const refused = status === 401 || status === 403 || /\b(401|403)\b/.test(message);
    throw new RemoteError(
      refused ? 'ERR_SR_UNAUTHORIZED' : 'ERR_SR_MCP_CONNECT',
      redact(
        `cannot open MCP at ${endpoint.href}${typeof status === 'number' ? ` (HTTP ${status})` : ''}: ${message}`,
      ),
      { hint: 'check that the server is running and reachable', cause: error },
    );
  }
  const info = remote.getServerVersion();
  const server = new Server(
    { name: info?.name ?? 'secure-registry', version: info?.version ?? CLI_MCP_VERSION },
    {
      capabilities: { tools: {} },
      ...(remote.getInstructions() ? { instructions: remote.getInstructions()! } : {}),
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, (request, extra) =>
    remote.listTools(request.params, { signal: extra.signal }),
  );
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    try {
      return (await remote.callTool(request.params, undefined, { signal: extra.signal })) as CallToolResult;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return {
        isError: true,
        content: [{ type: 'text', text: redact(`the server did not answer: ${message}`) }],
      };
    }
  });
  return {
    server,
    remote,
    async close() {
      await server.close().catch(() => undefined);
      await remote.close().catch(() => undefined);
    },
  };
}

/** Serves the proxy on a transport (stdio by default) until the client goes away. */
export async function serveMcpProxy(
  proxy: McpProxy,
  transport: Transport = new StdioServerTransport(),
): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    proxy.server.onclose = () => resolve();
  });
  await proxy.server.connect(transport);
  // stdio: the client closing our stdin ends the session.
  if (transport instanceof StdioServerTransport) {
    process.stdin.once('end', () => void proxy.server.close());
  }
  await closed;
}
