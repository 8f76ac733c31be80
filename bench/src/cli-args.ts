// The benches' command lines: `--help` prints the usage; an unknown or malformed flag is a one-line
// error and the usage on stderr, exit code 2, before anything is measured (never a stack trace).
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Exits with the usage: 0 for `--help`, 2 with `message` for bad input. */
export function usageExit(usage: string, message?: string): never {
  if (message === undefined) {
    process.stdout.write(`usage: ${usage}\n`);
    process.exit(0);
  }
  process.stderr.write(`error: ${message}\nusage: ${usage}\n`);
  process.exit(2);
}

/** A strict `parseArgs` with `--help` and a clear error for bad input. */
export function parseCommandLine<const T extends ParseArgsConfig>(usage: string, config: T) {
  if (process.argv.slice(2).includes('--help')) usageExit(usage);
  try {
    return parseArgs(config);
  } catch (error) {
    usageExit(usage, error instanceof Error ? error.message : String(error));
  }
}

/** A flag's list of counts (`1,2`, `148,295,1024`): `fallback` when not given; anything but positive integers exits 2. */
export function countList(
  usage: string,
  flag: string,
  value: string | undefined,
  fallback: number[],
): number[] {
  const counts = value === undefined ? fallback : value.split(',').map(Number);
  if (counts.some((count) => !Number.isInteger(count) || count < 1))
    usageExit(usage, `${flag} takes counts such as 1 or 1,2, not ${value}`);
  return counts;
}

/** `--replicas` (default 1): counts above 1 run replicas on PostgreSQL and so need `--database`. */
export function replicaCounts(
  usage: string,
  value: string | undefined,
  databaseUrl: string | undefined,
): number[] {
  const counts = countList(usage, '--replicas', value, [1]);
  if (counts.some((count) => count > 1) && databaseUrl === undefined)
    usageExit(usage, '--replicas above 1 needs --database postgres://…');
  return counts;
}
