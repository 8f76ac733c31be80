/**
 * What a clean hosted scan offers next: `secure-registry use` (npm installs only vetted versions
 * from then on). `scan --use` runs it; a TTY is asked; plain output gets a one-line hint.
 */
import { createInterface } from 'node:readline/promises';
import { ExitCode } from '../exit-codes.js';
import { registryUrlFor } from '../services/npm-config.js';
import { resolveUpstream } from '../services/upstream.js';
import type { CommandIo } from './io.js';
import { runUse } from './use.js';

export const USE_HINT = 'all approved — point npm at the vetted registry with `secure-registry use`';

export interface AfterCleanScanOptions {
  io: CommandIo;
  /** The hosted server the scan ran against. */
  server: string;
  projectDir: string;
  /** `scan --use`: point npm at the vetted registry without asking. */
  use: boolean;
  /** How the scan printed: the Ink view, plain lines, or one JSON/SARIF document on stdout. */
  output: 'ink' | 'plain' | 'document';
  stdin?: NodeJS.ReadStream;
}

/** Runs, offers or hints `use` after a scan that passed in hosted mode; returns the exit code. */
export async function afterCleanScan(options: AfterCleanScanOptions): Promise<number> {
  const { io, output } = options;
  if (options.use) {
    // A JSON or SARIF document owns stdout: what `use` reports goes to stderr then.
    return runUse({}, output === 'document' ? { ...io, stdout: io.stderr } : io, options.projectDir);
  }
  if (output === 'document' || (await npmUsesRegistry(options))) return ExitCode.Ok;
  const stdin = options.stdin ?? process.stdin;
  if (output === 'ink' && stdin.isTTY) {
    if (
      await confirm(
        stdin,
        io,
        `Point npm at the vetted registry ${registryUrlFor(options.server)} now? [y/N] `,
      )
    ) {
      return runUse({}, io, options.projectDir);
    }
    io.stdout.write('later: `secure-registry use`\n');
    return ExitCode.Ok;
  }
  io.stdout.write(`${USE_HINT}\n`);
  return ExitCode.Ok;
}

/** Whether npm (env, project .npmrc, user .npmrc) already points at the server's registry. */
async function npmUsesRegistry(options: AfterCleanScanOptions): Promise<boolean> {
  // SECURE_REGISTRY_UPSTREAM is this CLI's setting, not npm's: leave it out.
  const env = { ...options.io.env, SECURE_REGISTRY_UPSTREAM: undefined };
  const current = await resolveUpstream({ projectDir: options.projectDir, env }).catch(() => undefined);
  return current !== undefined && registryUrlFor(current) === registryUrlFor(options.server);
}

async function confirm(stdin: NodeJS.ReadStream, io: CommandIo, question: string): Promise<boolean> {
  const prompt = createInterface({ input: stdin, output: io.stdout });
  try {
    const answer = await prompt.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}
