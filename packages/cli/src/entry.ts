// The `secure-registry` process: argv, the streams and the exit code wired to the commands. Run
// through bin.ts, which checks the Node.js version first.
import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { ExitCode } from './exit-codes.js';
import { isReaderGone, processIo } from './commands/io.js';
import { buildProgram } from './program.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** Prints an error and returns its exit code (the error classes are loaded only when needed). */
async function report(error: unknown, verbose: boolean): Promise<number> {
  const stderr = process.stderr;
  if (error instanceof CommanderError) {
    // Commander has already printed its message; --help and --version are not errors.
    if (
      error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version' ||
      error.code === 'commander.help'
    ) {
      return ExitCode.Ok;
    }
    return ExitCode.UsageError;
  }
  const { SecureRegistryError, redact } = await import('@secure-registry/shared');
  const { exitCodeForError } = await import('./error-exit-code.js');
  if (error instanceof SecureRegistryError) {
    stderr.write(redact(`error: ${error.message}\n`));
    if (error.hint) stderr.write(redact(`hint: ${error.hint}\n`));
    if (verbose)
      stderr.write(redact(`code: ${error.code}${error.cause ? `\ncause: ${String(error.cause)}` : ''}\n`));
    return exitCodeForError(error);
  }
  const message = error instanceof Error ? error.message : String(error);
  stderr.write(redact(`error: unexpected failure: ${message}\n`));
  if (verbose && error instanceof Error && error.stack) stderr.write(redact(`${error.stack}\n`));
  return exitCodeForError(error);
}

async function main(): Promise<void> {
  // A reader that went away (`| head`) is no error of the command's; any other write error is.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error) => {
      if (!isReaderGone(error)) throw error;
    });
  }
  let code: number = ExitCode.Ok;
  const program = buildProgram({
    io: processIo(),
    version,
    setExit: (value) => {
      code = value;
    },
  });
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    code = await report(error, process.argv.includes('--verbose'));
  }
  process.exit(code);
}

await main();
