/**
 * Pure parsing of npm script commands: which files a command runs. Understands enough of the
 * shell (quotes, `&&`, `||`, `;`, `|`, `VAR=value` prefixes) for the commands packages use.
 */

export interface ScriptTargets {
  /** Files run by Node (or preloaded with -r / --import), as written. */
  nodeFiles: string[];
  /** Shell scripts run (sh file.sh, ./file.sh). */
  shellFiles: string[];
  /** Inline code: `node -e '…'`. */
  inlineJs: string[];
  /** Inline shell: `sh -c '…'`. */
  inlineShell: string[];
  /** Other scripts run through `npm run <name>`. */
  npmRuns: string[];
  /** Python files run (`python3 file.py`). */
  pythonFiles: string[];
}

/** Splits a command line into commands of words. Operators separate commands. */
export function splitCommands(command: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  const endWord = (): void => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  const endCommand = (): void => {
    endWord();
    if (words.length > 0) commands.push(words);
    words = [];
  };
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (c === "'") {
      const close = command.indexOf("'", i + 1);
      const end = close === -1 ? command.length : close;
      word += command.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < command.length && command[j] !== '"'; j++) {
        if (command[j] === '\\' && j + 1 < command.length) j++;
        word += command[j];
      }
      inWord = true;
      i = j;
    } else if (c === '\\' && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      endWord();
    } else if (c === ';' || c === '|' || c === '&' || c === '(' || c === ')') {
      endCommand();
    } else {
      word += c;
      inWord = true;
    }
  }
  endCommand();
  return commands;
}

const NODE_LIKE = new Set(['node', 'nodejs', 'node.exe', 'bun', 'tsx', 'ts-node']);
const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh']);
const NODE_VALUE_FLAGS = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader']);
const NODE_CODE_FLAGS = new Set(['-e', '--eval', '-p', '--print']);

function basename(word: string): string {
  return word.slice(Math.max(word.lastIndexOf('/'), word.lastIndexOf('\\')) + 1);
}

function parseNode(args: string[], out: ScriptTargets): void {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (NODE_CODE_FLAGS.has(arg)) {
      if (args[i + 1] !== undefined) out.inlineJs.push(args[i + 1]!);
      return;
    }
    if (NODE_VALUE_FLAGS.has(arg)) {
      if (args[i + 1] !== undefined) out.nodeFiles.push(args[++i]!);
      continue;
    }
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0 && NODE_VALUE_FLAGS.has(arg.slice(0, eq))) {
      out.nodeFiles.push(arg.slice(eq + 1));
      continue;
    }
    if (arg.startsWith('-')) continue;
    out.nodeFiles.push(arg);
    return;
  }
}

export function parseScriptCommand(command: string): ScriptTargets {
  const out: ScriptTargets = {
    nodeFiles: [],
    shellFiles: [],
    inlineJs: [],
    inlineShell: [],
    npmRuns: [],
    pythonFiles: [],
  };
  for (const words of splitCommands(command)) {
    let i = 0;
    while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!)) i++;
    if (words[i] === 'env' || words[i] === 'exec' || words[i] === 'nohup') i++;
    while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!)) i++;
    const program = words[i];
    if (program === undefined) continue;
    const args = words.slice(i + 1);
    const name = basename(program);
    if (NODE_LIKE.has(name)) parseNode(args, out);
    else if (SHELLS.has(name)) {
      const c = args.indexOf('-c');
      if (c !== -1 && args[c + 1] !== undefined) out.inlineShell.push(args[c + 1]!);
      else {
        const file = args.find((a) => !a.startsWith('-'));
        if (file) out.shellFiles.push(file);
      }
    } else if (/^python[\d.]*$/.test(name)) {
      const file = args.find((a) => !a.startsWith('-'));
      if (file && args[0] !== '-c' && args[0] !== '-m') out.pythonFiles.push(file);
    } else if (
      (name === 'npm' || name === 'yarn' || name === 'pnpm') &&
      (args[0] === 'run' || args[0] === 'run-script')
    ) {
      if (args[1]) out.npmRuns.push(args[1]);
    } else if (program.startsWith('./') || program.startsWith('../') || /\.(?:c|m)?js$/.test(program)) {
      if (/\.(?:c|m)?js$/.test(program)) out.nodeFiles.push(program);
      else out.shellFiles.push(program);
    }
  }
  return out;
}
