/**
 * `secure-registry review`: the queue of packages held for a person. Interactive (Ink) on a TTY;
 * `review list [--json]`, `review approve <pkg@ver> --reason …` and `review reject <pkg@ver>
 * --reason …` for scripts. The server requires the reviewer (or admin) role.
 *
 * Exit codes: 0 done; 3 usage error, unknown package, or a token without the reviewer role;
 * 4 server or network failure.
 */
import { SecureRegistryError, UserError, maxSeverity, redact } from '@secure-registry/shared';
import type { HeldPackage, ReviewDecisionKind } from '@secure-registry/shared';
import { ExitCode } from '../exit-codes.js';
import { exitCodeForError } from '../error-exit-code.js';
import { isPermissionError, listHeldPackages, recordReviewDecision } from '../services/review.js';
import { openServerSession } from '../services/server-session.js';
import type { ServerSession } from '../services/server-session.js';
import { wantsInteractive, writeOut } from './io.js';
import type { CommandIo } from './io.js';

export interface SessionFlags {
  upstream?: string | undefined;
}

/** Prints an error with its hint and returns the exit code for it. */
export function reportCommandError(
  error: unknown,
  context: string,
  io: CommandIo,
  needs = 'a token with the reviewer (or admin) role',
): number {
  const line = (text: string) => io.stderr.write(`${redact(text)}\n`);
  if (isPermissionError(error)) {
    const message = error instanceof Error ? error.message : String(error);
    line(`${context}: the server refused: this needs ${needs}.`);
    line(`  ${message}`);
    line('  hint: `secure-registry login --server URL --token T` or SECURE_REGISTRY_TOKEN');
    return ExitCode.UsageError;
  }
  if (error instanceof SecureRegistryError) {
    line(`${context}: ${error.message}`);
    if (error.hint) line(`  hint: ${error.hint}`);
    return exitCodeForError(error);
  }
  line(`${context}: ${error instanceof Error ? error.message : String(error)}`);
  return exitCodeForError(error);
}

async function withSession(
  flags: SessionFlags,
  io: CommandIo,
  context: string,
  work: (session: ServerSession) => Promise<void>,
): Promise<number> {
  let session: ServerSession | undefined;
  try {
    session = await openServerSession({ env: io.env, projectDir: process.cwd(), upstream: flags.upstream });
    await work(session);
    return ExitCode.Ok;
  } catch (error) {
    return reportCommandError(error, context, io);
  } finally {
    await session?.close().catch(() => undefined);
  }
}

/** Plain text for one held package (used by `review list`). */
export function formatHeldPackage(pkg: HeldPackage): string {
  const severity = maxSeverity(pkg.findings) ?? 'no findings';
  const lines = [`${pkg.name}@${pkg.version}  [${severity}]  ${pkg.reason ?? ''}`.trimEnd()];
  for (const finding of pkg.findings) {
    lines.push(`  ${finding.severity.padEnd(8)} ${finding.rule}: ${finding.message}`);
    for (const evidence of finding.evidence.slice(0, 3)) {
      const where = evidence.path ? `${evidence.path}${evidence.line ? `:${evidence.line}` : ''}` : '';
      const what = (evidence.excerpt ?? evidence.detail ?? '').replace(/\s+/g, ' ').slice(0, 160);
      lines.push(`           ${[evidence.kind, where, what].filter(Boolean).join(' ')}`);
    }
  }
  for (const decision of pkg.decisions) {
    lines.push(
      `  decision ${decision.createdAt} ${decision.reviewer} (${decision.role}): ${decision.decision}: ${decision.reason}`,
    );
  }
  return lines.join('\n');
}

export function runReviewList(flags: SessionFlags & { json?: boolean }, io: CommandIo): Promise<number> {
  return withSession(flags, io, 'review list', async (session) => {
    const packages = await listHeldPackages(session.client);
    if (flags.json) return writeOut(io.stdout, `${JSON.stringify({ packages }, null, 2)}\n`);
    if (packages.length === 0) return writeOut(io.stdout, 'No packages are held for review.\n');
    const header = `${packages.length} package${packages.length === 1 ? '' : 's'} held for review:\n\n`;
    await writeOut(io.stdout, `${header}${packages.map(formatHeldPackage).join('\n\n')}\n`);
  });
}

export async function runReviewDecision(
  decision: ReviewDecisionKind,
  spec: string,
  flags: SessionFlags & { reason?: string; integrity?: string; json?: boolean },
  io: CommandIo,
): Promise<number> {
  const context = `review ${decision}`;
  if (!flags.reason?.trim()) {
    return reportCommandError(
      new UserError('ERR_SR_USAGE', 'a decision needs a reason: --reason "…"'),
      context,
      io,
    );
  }
  return withSession(flags, io, context, async (session) => {
    const result = await recordReviewDecision(session.client, {
      spec,
      decision,
      reason: flags.reason,
      integrity: flags.integrity,
    });
    if (flags.json) return writeOut(io.stdout, `${JSON.stringify(result, null, 2)}\n`);
    const { record } = result;
    const scans = result.scansUpdated > 0 ? `; ${result.scansUpdated} running scan(s) updated` : '';
    await writeOut(
      io.stdout,
      `${record.name}@${record.version} is now ${result.verdict} (decision ${record.id} by ${record.reviewer}${scans})\n`,
    );
  });
}

/** `review` alone: the Ink list on a TTY, else the plain list. */
export async function runReviewInteractive(flags: SessionFlags, io: CommandIo): Promise<number> {
  if (!wantsInteractive(io) || !process.stdin.isTTY) return runReviewList(flags, io);
  return withSession(flags, io, 'review', async (session) => {
    const packages = await listHeldPackages(session.client);
    // Ink and React are the slowest modules to load: only the interactive view loads them.
    const [{ render }, { createElement }, { ReviewList }] = await Promise.all([
      import('ink'),
      import('react'),
      import('../ui/ReviewList.js'),
    ]);
    const app = render(
      createElement(ReviewList, {
        packages,
        decide: (pkg, decision, reason) =>
          recordReviewDecision(session.client, {
            spec: `${pkg.name}@${pkg.version}`,
            decision,
            reason,
            integrity: pkg.integrity,
          }),
      }),
      { stdout: io.stdout, stderr: io.stderr },
    );
    await app.waitUntilExit();
  });
}
