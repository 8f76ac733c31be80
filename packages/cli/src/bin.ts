#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { RemoteError, SecureRegistryError, UserError, redact } from '@secure-registry/shared';
import { ExitCode, FAIL_ON } from './exit-codes.js';
import { processIo } from './commands/io.js';
import { runLogin, runLogout } from './commands/login.js';
import { registerHookCommand } from './commands/hook.js';
import { registerInstallCommand } from './commands/install.js';
import { registerMcpCommand } from './commands/mcp.js';
import { registerReviewCommand } from './commands/review.js';
import { runScan } from './commands/scan.js';
import { registerUseCommand } from './commands/use.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

function buildProgram(setExit: (code: number) => void): Command {
  const io = processIo();
  const program = new Command('secure-registry')
    .description('Vet every npm dependency before it can be installed.')
    .version(version, '-v, --version')
    .option('--verbose', 'show more detail on errors')
    .exitOverride()
    .configureOutput({ writeErr: (text) => io.stderr.write(text) });
  program.addHelpText(
    'after',
    `
Exit codes:
  0  every package approved
  1  a package was rejected, or is blocked by a rejected dependency
  2  a package is held for review, not vettable or undecided (see scan --fail-on)
  3  usage or input error (bad flags, no lockfile, malformed lockfile)
  4  server or network failure

Environment: SECURE_REGISTRY_SERVER, SECURE_REGISTRY_TOKEN (hosted mode), SECURE_REGISTRY_UPSTREAM,
SECURE_REGISTRY_DATA_DIR (local mode), SECURE_REGISTRY_CONFIG_DIR (where login is stored), CI.`,
  );

  program
    .command('scan')
    .description('scan the lockfile in a directory and print a verdict for every dependency')
    .argument('[dir]', 'project directory containing package-lock.json or npm-shrinkwrap.json', '.')
    .option('--json', 'print one JSON document (schema: README-json.md)')
    .option('--sarif', 'print SARIF 2.1.0 for code-scanning upload')
    .addOption(
      new Option('--fail-on <level>', 'least severe outcome that fails the run (exit 1/2)')
        .choices(FAIL_ON)
        .default('unvettable'),
    )
    .option('--upstream <url>', 'upstream registry in local mode (default: npm config registry)')
    .action(
      async (dir: string, flags: { json?: boolean; sarif?: boolean; failOn?: string; upstream?: string }) => {
        setExit(await runScan(dir, { ...flags, verbose: program.opts().verbose === true }, io, version));
      },
    );

  program
    .command('login')
    .description('store a hosted server URL and token for later scans')
    .requiredOption('--server <url>', 'the secure-registry server URL')
    .option('--token <token>', 'an API token (or SECURE_REGISTRY_TOKEN)')
    .action((flags: { server: string; token?: string }) => setExit(runLogin(flags, io)));

  program
    .command('logout')
    .description('forget the stored server and token (scans return to local mode)')
    .action(() => setExit(runLogout(io)));

  registerReviewCommand(program, io, setExit);
  registerMcpCommand(program, io, setExit);
  registerUseCommand(program, io, setExit);
  registerInstallCommand(program, io, setExit);
  registerHookCommand(program, io, setExit);
  return program;
}

function report(error: unknown, verbose: boolean): number {
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
  if (error instanceof SecureRegistryError) {
    stderr.write(redact(`error: ${error.message}\n`));
    if (error.hint) stderr.write(redact(`hint: ${error.hint}\n`));
    if (verbose)
      stderr.write(redact(`code: ${error.code}${error.cause ? `\ncause: ${String(error.cause)}` : ''}\n`));
    if (error instanceof UserError) return ExitCode.UsageError;
    if (error instanceof RemoteError) return ExitCode.RemoteError;
    return ExitCode.RemoteError;
  }
  const message = error instanceof Error ? error.message : String(error);
  stderr.write(redact(`error: unexpected failure: ${message}\n`));
  if (verbose && error instanceof Error && error.stack) stderr.write(redact(`${error.stack}\n`));
  return ExitCode.RemoteError;
}

async function main(): Promise<void> {
  let code: number = ExitCode.Ok;
  const program = buildProgram((value) => {
    code = value;
  });
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    code = report(error, process.argv.includes('--verbose'));
  }
  process.exit(code);
}

await main();
