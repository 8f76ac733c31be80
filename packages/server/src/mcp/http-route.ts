import { UserError } from '@secure-registry/shared';
/**
 * MCP over streamable HTTP at `/mcp`: stateless (a server and transport per request), JSON
 * responses, behind the same bearer tokens as the API (tokenless only in local mode).
 */
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { InvestigationService } from '../services/investigation-service.js';
import type { ReviewService } from '../services/review-service.js';
import { createMcpServer } from './mcp-server.js';

export const MCP_PATH = '/mcp';

export interface McpRouteDeps {
  investigation: InvestigationService;
  reviews: ReviewService;
  /** Any authenticated role. */
  canUse: onRequestAsyncHookHandler;
}

export function registerMcpRoute(app: FastifyInstance, deps: McpRouteDeps): void {
  app.post(MCP_PATH, { onRequest: deps.canUse }, async (request: FastifyRequest, reply: FastifyReply) => {
    const principal = request.principal;
    if (!principal) throw new UserError('ERR_SR_UNAUTHORIZED', 'authentication required');
    const server = createMcpServer({
      investigation: deps.investigation,
      reviews: deps.reviews,
      actor: { reviewer: principal.label ?? principal.id, role: principal.role },
    });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    reply.hijack();
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(request.raw, reply.raw, request.body);
    } catch (error) {
      request.log.error({ err: String(error) }, 'MCP request failed');
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' });
        reply.raw.end(
          JSON.stringify({
            jsonrpc: '2.0',
            error: { code: -32603, message: 'internal server error' },
            id: null,
          }),
        );
      }
    }
  });
  // Stateless: no server-initiated streams and no sessions to end. `GET /mcp` is also the
  // packument of the npm package `mcp` (registry routes): only an MCP client's event-stream
  // request is answered here, before any route.
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'GET' || request.url.split('?')[0] !== MCP_PATH) return;
    const accept = String(request.headers.accept ?? '');
    if (!accept.includes('text/event-stream') || accept.includes('application/json')) return;
    return notAllowed(reply);
  });
  app.delete(MCP_PATH, async (_request, reply) => notAllowed(reply));
}

function notAllowed(reply: FastifyReply) {
  return reply
    .status(405)
    .header('allow', 'POST')
    .send({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });
}
