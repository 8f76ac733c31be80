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

/** Checks the Node.js version, then runs the built entry point `entry` (a file URL). */
export async function runBin(program, entry) {
  const message = unsupportedNodeMessage(program);
  if (message !== undefined) {
    process.stderr.write(`${message}\n`);
    process.exit(UNSUPPORTED_NODE_EXIT);
  }
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
