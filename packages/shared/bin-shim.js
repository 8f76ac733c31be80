// The start of every command of secure-registry (`secure-registry`, `secure-registry-server`):
// checks the Node.js version before anything else is loaded, so an unsupported Node gets one line
// and exit 3 instead of "No such built-in module" and a stack trace. Plain JavaScript that any Node
// with ES modules parses, shipped as is (not compiled), so it runs even before a build.
// node:sqlite is the newest built-in the project uses (the local server's database).

export const MINIMUM_NODE = '22.12.0';
export const UNSUPPORTED_NODE_EXIT = 3;

/** Whether `version` (e.g. `20.20.2` or `v24.1.0`) is at least `minimum`. */
export function nodeAtLeast(version, minimum = MINIMUM_NODE) {
  const parse = (text) =>
    String(text)
      .replace(/^v/, '')
      .split('.')
      .map((part) => Number.parseInt(part, 10) || 0);
  const have = parse(version);
  const want = parse(minimum);
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) !== (want[i] ?? 0)) return (have[i] ?? 0) > (want[i] ?? 0);
  }
  return true;
}

/** Whether this process can load node:sqlite. */
export function hasNodeSqlite() {
  if (typeof process.getBuiltinModule !== 'function') return false;
  try {
    return process.getBuiltinModule('node:sqlite') !== undefined;
  } catch {
    return false;
  }
}

/** The one line to print when this Node cannot run `program`, or undefined when it can. */
export function unsupportedNodeMessage(
  program,
  version = process.versions.node,
  sqlite = hasNodeSqlite(),
  execPath = process.execPath,
) {
  const recentEnough = nodeAtLeast(version);
  if (recentEnough && sqlite) return undefined;
  const why = recentEnough ? ', which lacks node:sqlite' : '';
  return `${program}: needs Node.js ${MINIMUM_NODE} or later with node:sqlite (24 LTS recommended); this is Node.js ${version}${why} (${execPath})`;
}

/**
 * The server's V8 settings. A young generation of at most 16 MiB per semi-space: V8 sizes it by the
 * machine's memory (64 MiB here, with 24 GiB), and a cold scan kept 128 MiB of it committed with a
 * few MiB in use (bench/README: peak RSS 650 -> 597 MB, no slower). V8 takes it only at start-up.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=16'];

/**
 * Replaces this process with the same program under `flags` (process.execve: the same pid, so
 * signals, `kill -9` and exit codes stay the program's), unless it already runs with them, they
 * came from NODE_OPTIONS, or this Node has no execve (before 23.11): then it goes on as it is.
 */
export function execWithNodeFlags(flags) {
  const given = [...process.execArgv, ...String(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  const missing = flags.filter((flag) => !given.some((arg) => arg.split('=')[0] === flag.split('=')[0]));
  if (missing.length === 0 || typeof process.execve !== 'function') return;
  process.execve(
    process.execPath,
    [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)],
    process.env,
  );
}

/**
 * Checks the Node.js version, then runs the built entry point `entry` (a file URL), under
 * `options.nodeFlags` (execWithNodeFlags) when given.
 */
export async function runBin(program, entry, options = {}) {
  const message = unsupportedNodeMessage(program);
  if (message !== undefined) {
    process.stderr.write(`${message}\n`);
    process.exit(UNSUPPORTED_NODE_EXIT);
  }
  if (options.nodeFlags) execWithNodeFlags(options.nodeFlags);
  try {
    await import(entry.href);
  } catch (error) {
    if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes(entry.pathname)) {
      process.stderr.write(
        `${program}: not built yet (${entry.pathname} is missing): run \`npm run build\` in the repository\n`,
      );
      process.exit(UNSUPPORTED_NODE_EXIT);
    }
    throw error;
  }
}
