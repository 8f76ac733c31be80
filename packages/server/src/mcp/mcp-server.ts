import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SERVER_VERSION } from '../version.js';
import { registerTools } from './tools.js';
import type { McpToolContext } from './tools.js';

export const MCP_SERVER_NAME = 'secure-registry';

/** An MCP server with the secure-registry tools for one caller (connect it to any transport). */
export function createMcpServer(ctx: McpToolContext): McpServer {
  const server = new McpServer(
    { name: MCP_SERVER_NAME, version: SERVER_VERSION },
    {
      instructions:
        'Tools to investigate npm packages vetted by secure-registry: findings, behaviour in the sandbox, raw events, files and diffs. Call check_package before adding a dependency.',
    },
  );
  registerTools(server, ctx);
  return server;
}
