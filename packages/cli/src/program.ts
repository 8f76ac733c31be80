/**
 * The command tree: every command, option and help text is declared here, and each action loads
 * its implementation (`commands/*.ts`) only when it runs. `--help` and `--version` therefore load
 * nothing but commander, and a command loads only what it uses (Ink and React on a TTY, the server
 * in local mode, Arborist for lockfiles that need it).
 */
import { Command, Option } from 'commander';
import { DEFAULT_FAIL_ON, FAIL_ON } from './exit-codes.js';
import type { CommandIo } from './commands/io.js';
import type { ScriptsFlags } from './commands/scripts.js';
import type { ScanFlags } from './commands/scan.js';
import type { SessionFlags } from './commands/review.js';
import type { InstallFlags } from './commands/install.js';
import type { UseFlags } from './commands/use.js';

export interface ProgramOptions {
  io: CommandIo;
  version: string;
  setExit: (code: number) => void;
}

const EXIT_CODES_HELP = `
Exit codes:
  0  every package approved
  1  a package was rejected, or is blocked by a rejected dependency
  2  a package is held for review, not vettable or undecided (see scan --fail-on)
  3  usage or input error (bad flags, no lockfile, malformed lockfile)
  4  server or network failure, or the upstream registry could not be fetched from (the reason
     is printed in one line; those packages are not analysed and never approved)

Environment: SECURE_REGISTRY_SERVER, SECURE_REGISTRY_TOKEN (hosted mode), SECURE_REGISTRY_UPSTREAM,
SECURE_REGISTRY_DATA_DIR (local mode), SECURE_REGISTRY_CONFIG_DIR (where login is stored), CI.`;

export function buildProgram({ io, version, setExit }: ProgramOptions): Command {
  const program = new Command('secure-registry')
    .description('Vet every npm dependency before it can be installed.')
    .version(version, '-v, --version')
    .option('--verbose', 'show more detail on errors')
    .exitOverride()
    .configureOutput({ writeErr: (text) => io.stderr.write(text) });
  program.addHelpText('after', EXIT_CODES_HELP);
  const verbose = () => program.opts().verbose === true;

  program
    .command('scan')
    .description('scan the lockfile in a directory and print a verdict for every dependency')
    .argument(
      '[dir]',
      'project directory with package-lock.json, npm-shrinkwrap.json, pnpm-lock.yaml, yarn.lock or only package.json',
      '.',
    )
    .option('--json', 'print one JSON document (schema: README-json.md)')
    .option('--sarif', 'print SARIF 2.1.0 for code-scanning upload')
    .addOption(
      new Option('--fail-on <level>', 'least severe outcome that fails the run (exit 1/2)')
        .choices(FAIL_ON)
        .default(DEFAULT_FAIL_ON),
    )
    .option('--upstream <url>', 'upstream registry in local mode (default: npm config registry)')
    .option('--quiet', 'plain output: no line per finished package, only the summary')
    .option(
      '--use',
      "when every package is approved, point npm at the server's vetted registry (as `secure-registry use`; hosted mode)",
    )
    .action(async (dir: string, flags: ScanFlags) => {
      const { runScan } = await import('./commands/scan.js');
      setExit(await runScan(dir, { ...flags, verbose: verbose() }, io, version));
    });

  program
    .command('scripts')
    .description(
      'write the install-script allow-lists (npm allowScripts, pnpm allowBuilds, yarn dependenciesMeta.built) from the verdicts: only scripts observed in the sandbox and approved may run',
    )
    .argument('[dir]', 'project directory with its lockfile', '.')
    .option('--write', 'apply the changes (default: print them as a diff)')
    .option('--client <list>', "npm, pnpm and/or yarn, comma-separated (default: the lockfile's client)")
    .option('--upstream <url>', 'upstream registry in local mode (default: npm config registry)')
    .action(async (dir: string, flags: ScriptsFlags) => {
      const { runScripts } = await import('./commands/scripts.js');
      setExit(await runScripts(dir, flags, io));
    });

  program
    .command('setup')
    .description(
      'check this machine can run the sandbox; as root on Debian/Ubuntu install its system packages, else say how',
    )
    .option('--no-install', 'only check and advise; install nothing')
    .action(async (flags: { install?: boolean }) => {
      const { runSetup } = await import('./commands/setup.js');
      setExit(await runSetup(flags, io));
    });

  program
    .command('login')
    .description('store a hosted server URL and token for later scans')
    .requiredOption('--server <url>', 'the secure-registry server URL')
    .option('--token <token>', 'an API token (or SECURE_REGISTRY_TOKEN)')
    .action(async (flags: { server: string; token?: string }) => {
      const { runLogin } = await import('./commands/login.js');
      setExit(await runLogin(flags, io));
    });

  program
    .command('logout')
    .description('forget the stored server and token (scans return to local mode)')
    .action(async () => {
      const { runLogout } = await import('./commands/login.js');
      setExit(runLogout(io));
    });

  declareReview(program, io, setExit);

  program
    .command('mcp')
    .description('serve the investigation tools over MCP on stdio (for coding assistants)')
    .option('--upstream <url>', 'upstream registry in local mode')
    .action(async (flags: SessionFlags) => {
      const { runMcp } = await import('./commands/mcp.js');
      setExit(await runMcp(flags, io));
    });

  declareUse(program, io, setExit);
  declareInstall(program, io, setExit);

  const hook = program.command('hook').description('git hooks that scan lockfile changes');
  hook
    .command('install')
    .description('add a pre-commit hook that scans a staged package-lock.json (works with husky, lefthook)')
    .option('--uninstall', 'remove the secure-registry block from the pre-commit hook')
    .action(async (flags: { uninstall?: boolean }) => {
      const { runHookInstall } = await import('./commands/hook.js');
      setExit(await runHookInstall(flags, io));
    });
  return program;
}

/** `review` and its subcommands (the server requires the reviewer or admin role). */
function declareReview(program: Command, io: CommandIo, setExit: (code: number) => void): void {
  const upstream = ['--upstream <url>', 'upstream registry in local mode'] as const;
  const review = program
    .command('review')
    .description('review packages held for a person (needs the reviewer role)')
    .option(...upstream)
    .action(async (flags: SessionFlags) => {
      const { runReviewInteractive } = await import('./commands/review.js');
      setExit(await runReviewInteractive(flags, io));
    });
  review
    .command('list')
    .description('list held packages with their evidence')
    .option('--json', 'print JSON ({ packages: [...] })')
    .option(...upstream)
    .action(async (flags: SessionFlags & { json?: boolean }) => {
      const { runReviewList } = await import('./commands/review.js');
      setExit(await runReviewList(flags, io));
    });
  for (const decision of ['approve', 'reject'] as const) {
    review
      .command(decision)
      .argument('<package>', 'name@version')
      .description(`${decision} a held package version; appended to the decision log`)
      .option('--reason <text>', 'why (required; recorded with the decision)')
      .option('--integrity <sri>', 'pick one artifact when several share the version')
      .option('--json', 'print JSON')
      .option(...upstream)
      .action(
        async (
          spec: string,
          flags: SessionFlags & { reason?: string; integrity?: string; json?: boolean },
        ) => {
          const { runReviewDecision } = await import('./commands/review.js');
          setExit(await runReviewDecision(decision, spec, flags, io));
        },
      );
  }
}

function declareUse(program: Command, io: CommandIo, setExit: (code: number) => void): void {
  program
    .command('use')
    .description("point npm at the configured server's vetted registry (npm config set registry)")
    .option('--project', "write the project's .npmrc instead of the user's")
    .option('--undo', 'restore the registry (and token) that were set before')
    .addHelpText(
      'after',
      `
The previous values are kept in npm-config-backup.json next to the CLI's config file.
A read token (from login or SECURE_REGISTRY_TOKEN) is written as //host/:_authToken in the
user's npmrc, never in the project's. Local mode has no persistent registry: run
secure-registry-server and log in to it first.`,
    )
    .action(async (flags: UseFlags) => {
      const { runUse } = await import('./commands/use.js');
      setExit(await runUse(flags, io));
    });
}

function declareInstall(program: Command, io: CommandIo, setExit: (code: number) => void): void {
  program
    .command('install')
    .description('resolve, scan, and only then npm install through the vetted registry')
    .argument('[npm-args...]', 'arguments for npm install (packages to add, npm flags)')
    .option('--ci', 'install the existing lockfile with npm ci (no resolution)')
    .option('--upstream <url>', 'registry to resolve against (default: npm config registry)')
    .addOption(
      new Option('--fail-on <level>', 'least severe outcome that stops the install (exit 1/2)')
        .choices(FAIL_ON)
        .default(DEFAULT_FAIL_ON),
    )
    .allowUnknownOption()
    .helpOption('-h, --help')
    .addHelpText(
      'after',
      `
Examples:
  secure-registry install                 install package.json's dependencies
  secure-registry install lodash@^4 -D    add a dev dependency
  secure-registry install --ci            npm ci of the lockfile as it is

In local mode (no server configured) the install goes through a registry started for the run.`,
    )
    .action(async (args: string[], flags: InstallFlags) => {
      const { runInstall } = await import('./commands/install.js');
      setExit(await runInstall(args, flags, io));
    });
}
