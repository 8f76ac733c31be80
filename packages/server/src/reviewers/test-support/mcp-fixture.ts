import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export interface McpFixture {
  /** The MCP endpoint: `http://127.0.0.1:<port>/mcp`. */
  url: string;
  /** Tool calls received, in order. */
  calls: { name: string; args: unknown }[];
  /** Authorization headers received. */
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

/**
 * A real MCP server (the SDK's McpServer over streamable HTTP, stateless) with investigation tools
 * answering from fixed data, for testing the investigator's MCP client without the full server.
 */
export async function startMcpFixture(data: {
  findings: unknown;
  files: Record<string, string>;
}): Promise<McpFixture> {
  const calls: McpFixture['calls'] = [];
  const authorizations: (string | undefined)[] = [];
  const build = (): McpServer => {
    const mcp = new McpServer({ name: 'fixture', version: '0.0.0' });
    const pkg = { name: z.string(), version: z.string() };
    mcp.registerTool(
      'get_package_findings',
      { description: 'Findings of a package version', inputSchema: pkg },
      async (args) => {
        calls.push({ name: 'get_package_findings', args });
        return { content: [{ type: 'text', text: JSON.stringify(data.findings) }] };
      },
    );
    mcp.registerTool(
      'read_package_file',
      { description: 'A file of the stored tarball', inputSchema: { ...pkg, path: z.string() } },
      async (args) => {
        calls.push({ name: 'read_package_file', args });
        const text = data.files[args.path];
        return text === undefined
          ? { content: [{ type: 'text', text: `no file ${args.path}` }], isError: true }
          : { content: [{ type: 'text', text }] };
      },
    );
    mcp.registerTool(
      'record_decision',
      { description: 'Reviewer-only', inputSchema: { ...pkg, decision: z.string() } },
      async (args) => {
        calls.push({ name: 'record_decision', args });
        return { content: [{ type: 'text', text: 'recorded' }] };
      },
    );
    return mcp;
  };
  const server = createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      const body: unknown =
        chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
      const mcp = build();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => {
        void transport.close();
        void mcp.close();
      });
      void mcp.connect(transport).then(() => transport.handleRequest(req, res, body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    calls,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
