// The benches' command lines: `--help` prints the usage; an unknown or malformed flag is a one-line
// error and the usage on stderr, exit code 2, before anything is measured (never a stack trace).
/** Exits with the usage: 0 for `--help`, 2 with `message` for bad input. */
export function usageExit(usage: string, message?: string): never {
  if (message === undefined) {
    process.stdout.write(`usage: ${usage}\n`);
    process.exit(0);
  }
  process.stderr.write(`error: ${message}\nusage: ${usage}\n`);
  process.exit(2);
}

/** Runs a strict `parseArgs` call with `--help` and a clear error for bad input. */
export function parseCommandLine<T>(usage: string, parse: () => T): T {
  if (process.argv.slice(2).includes('--help')) usageExit(usage);
  try {
    return parse();
  } catch (error) {
    usageExit(usage, error instanceof Error ? error.message : String(error));
  }
}
