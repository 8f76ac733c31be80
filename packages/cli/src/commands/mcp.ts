/**
 * `secure-registry mcp`: the secure-registry MCP tools on stdio for coding assistants. A thin
 * proxy to the configured server's `/mcp` (hosted, or a local server started in this process).
 * Nothing but the protocol is written to stdout; errors go to stderr.
 *
 * Exit codes: 0 when the client ends the session; 3 token refused; 4 server unreachable.
 */
import { ExitCode } from '../exit-codes.js';
import { createMcpProxy, serveMcpProxy } from '../services/mcp-proxy.js';
import { openServerSession } from '../services/server-session.js';
import type { ServerSession } from '../services/server-session.js';
import type { CommandIo } from './io.js';
import { reportCommandError } from './review.js';
import type { SessionFlags } from './review.js';

export async function runMcp(flags: SessionFlags, io: CommandIo): Promise<number> {
  let session: ServerSession | undefined;
  try {
    session = await openServerSession({ env: io.env, projectDir: process.cwd(), upstream: flags.upstream });
    const proxy = await createMcpProxy({ url: session.url, token: session.token });
    try {
      await serveMcpProxy(proxy);
    } finally {
      await proxy.close();
    }
    return ExitCode.Ok;
  } catch (error) {
    return reportCommandError(error, 'mcp', io, 'a valid token (any role; record_decision needs reviewer)');
  } finally {
    await session?.close().catch(() => undefined);
  }
}
