/**
 * The MCP tools of secure-registry, registered on an `McpServer` for one caller. The work is done
 * by the services shared with HTTP; this file only declares schemas and shapes answers.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import {
  Phase,
  SecureRegistryError,
  TraceEvent,
  inputText,
  npmPackageName,
  redact,
  semverVersion,
} from '@secure-registry/shared';
import type { InvestigationService } from '../services/investigation-service.js';
import { REVIEWER_ROLES } from '../services/review-service.js';
import type { ReviewActor, ReviewService } from '../services/review-service.js';

export interface McpToolContext {
  investigation: InvestigationService;
  reviews: ReviewService;
  /** The authenticated caller. */
  actor: ReviewActor;
}

export const TOOL_NAMES = [
  'get_scan_summary',
  'get_package_findings',
  'get_behaviour_report',
  'query_events',
  'read_package_file',
  'diff_against_previous',
  'check_package',
  'record_decision',
] as const;

const name = npmPackageName.describe('package name, e.g. "left-pad" or "@scope/pkg"');
const version = semverVersion.describe('exact version, e.g. "1.2.3"');
const EVENT_KINDS = TraceEvent.options.map((option) => option.shape.kind.value) as [string, ...string[]];

function ok(value: unknown): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }] };
}

function failure(error: unknown): CallToolResult {
  if (error instanceof SecureRegistryError) {
    const hint = error.hint ? `\nhint: ${redact(error.hint)}` : '';
    return {
      isError: true,
      content: [{ type: 'text', text: `${error.code}: ${redact(error.message)}${hint}` }],
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { isError: true, content: [{ type: 'text', text: `ERR_SR_TOOL_FAILED: ${redact(message)}` }] };
}

async function run(work: () => Promise<unknown>): Promise<CallToolResult> {
  try {
    return ok(await work());
  } catch (error) {
    return failure(error);
  }
}

/** Registers every tool. `record_decision` is listed for all, but refused to roles other than reviewer and admin. */
export function registerTools(server: McpServer, ctx: McpToolContext): void {
  const { investigation, reviews, actor } = ctx;
  const readOnly = { readOnlyHint: true, openWorldHint: false };

  server.registerTool(
    'get_scan_summary',
    {
      description:
        'Status and counts of a scan, and every package in it that is not approved, with its reason and top findings.',
      inputSchema: { scanId: inputText(100, 1).describe('the scan id') },
      annotations: readOnly,
    },
    ({ scanId }) => run(() => investigation.getScanSummary(scanId)),
  );

  server.registerTool(
    'get_package_findings',
    {
      description:
        'The verdict of a package version, every finding with its evidence (file lines, event seqs), and the review decisions recorded so far.',
      inputSchema: { name, version },
      annotations: readOnly,
    },
    (args) => run(() => investigation.getPackageFindings(args.name, args.version)),
  );

  server.registerTool(
    'get_behaviour_report',
    {
      description:
        'The behaviour reports of the dynamic phases (processes, files by sensitivity, DNS, connections, HTTP, honeytoken hits). Static-only artifacts answer with a note.',
      inputSchema: {
        name,
        version,
        phase: Phase.optional().describe('install, import or browser; all by default'),
      },
      annotations: readOnly,
    },
    (args) => run(() => investigation.getBehaviourReport(args.name, args.version, args.phase)),
  );

  server.registerTool(
    'query_events',
    {
      description:
        'Raw trace events of the dynamic phases, filtered by kind, path, host or process (substring matches, case-insensitive). Static-only artifacts answer with an empty list and a note.',
      inputSchema: {
        name,
        version,
        kind: z.enum(EVENT_KINDS).optional().describe('event kind'),
        path: inputText(1000).optional().describe('substring of a file path'),
        host: inputText(500).optional().describe('substring of a DNS name, address, HTTP host or TLS SNI'),
        process: inputText(500)
          .optional()
          .describe('substring of a process path or argv: the events of those processes'),
        phase: Phase.optional(),
        limit: z.number().int().min(1).max(500).default(100),
      },
      annotations: readOnly,
    },
    (args) =>
      run(() =>
        investigation.queryEvents(args.name, args.version, {
          kind: args.kind as TraceEvent['kind'] | undefined,
          path: args.path,
          host: args.host,
          process: args.process,
          phase: args.phase,
          limit: args.limit,
        }),
      ),
  );

  server.registerTool(
    'read_package_file',
    {
      description:
        'One text file from the stored tarball (the bytes that were analysed), at most 64 KiB; package-relative path such as "index.js" or "lib/install.js".',
      inputSchema: { name, version, path: inputText(1024, 1).describe('package-relative path') },
      annotations: readOnly,
    },
    (args) => run(() => investigation.readPackageFile(args.name, args.version, args.path)),
  );

  server.registerTool(
    'diff_against_previous',
    {
      description:
        'Files added, removed and changed since the previous version (stored, else from upstream), with bounded unified diffs of text files.',
      inputSchema: { name, version },
      annotations: readOnly,
    },
    (args) => run(() => investigation.diffAgainstPrevious(args.name, args.version)),
  );

  server.registerTool(
    'check_package',
    {
      description:
        'Ask before adding a dependency: the verdict of name@version (default: the latest upstream version). A version never vetted is queued for analysis and answered as pending.',
      inputSchema: { name, version: version.optional() },
      annotations: { readOnlyHint: false, openWorldHint: true, idempotentHint: true },
    },
    (args) => run(() => investigation.checkPackage(args.name, args.version)),
  );

  server.registerTool(
    'record_decision',
    {
      description:
        'Reviewers only: approve or reject a held package version, with the reason. Appended to the decision log; sets the verdict.',
      inputSchema: {
        name,
        version,
        decision: z.enum(['approve', 'reject']),
        reason: inputText(4000, 1),
        integrity: inputText(200).optional(),
      },
      annotations: {
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    (args) => {
      if (actor.role === 'llm' || !REVIEWER_ROLES.includes(actor.role)) {
        return Promise.resolve(
          failure(
            new SecureRegistryError(
              'ERR_SR_FORBIDDEN',
              `record_decision is refused to the role ${actor.role}`,
              {
                hint: 'only tokens with the reviewer or admin role may record decisions',
              },
            ),
          ),
        );
      }
      return run(() =>
        reviews.decide(
          {
            name: args.name,
            version: args.version,
            decision: args.decision,
            reason: args.reason,
            ...(args.integrity !== undefined ? { integrity: args.integrity } : {}),
          },
          actor,
        ),
      );
    },
  );
}
