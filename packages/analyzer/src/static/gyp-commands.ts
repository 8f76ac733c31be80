// The code a node-gyp build of the package runs, read from its gyp files. Pure.
//
// `node-gyp rebuild` runs gyp on binding.gyp (with config.gypi and common.gypi from the package
// root when they exist, as node-gyp's configure adds them), following `includes` and the .gyp
// files named in `dependencies`. While loading, gyp runs every command expansion — `<!(cmd)`,
// `<!@(cmd)`, `>!(cmd)`, `>!@(cmd)` through the shell, `<!pymod_do_main(module args)` as a Python
// module of the package — and make later runs every `action` (in actions, rules and postbuilds).
// gyp files are Python literals: dicts, lists, quoted strings (adjacent ones concatenated), `#`
// comments.

export interface GypCommand {
  /** The gyp file it is in (package-relative). */
  file: string;
  line: number;
  kind: 'expansion' | 'action' | 'pymod';
  /** A shell command line (actions: the argv joined with spaces; pymod: `python <module>.py args`). */
  command: string;
}

export interface GypCode {
  /** The gyp files a build loads, binding.gyp first. */
  files: string[];
  commands: GypCommand[];
}

type Token =
  { kind: 'string'; value: string; line: number } | { kind: 'punct' | 'word'; value: string; line: number };

const MAX_FILES = 50;
const MAX_COMMANDS = 200;

/** Python-literal tokens; adjacent strings are concatenated as Python does. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') i++;
    else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === "'" || c === '"') {
      const start = line;
      const triple = text.startsWith(c.repeat(3), i);
      const close = triple ? c.repeat(3) : c;
      i += close.length;
      let value = '';
      while (i < text.length && !text.startsWith(close, i)) {
        const ch = text[i]!;
        if (ch === '\n') line++;
        if (ch === '\\' && i + 1 < text.length) {
          const next = text[i + 1]!;
          value += next === 'n' ? '\n' : next === 't' ? '\t' : next === '\n' ? '' : next;
          if (next === '\n') line++;
          i += 2;
          continue;
        }
        if (ch === '\n' && !triple) break;
        value += ch;
        i++;
      }
      i += close.length;
      const last = out[out.length - 1];
      if (last?.kind === 'string') last.value += value;
      else out.push({ kind: 'string', value, line: start });
    } else if ('{}[]():,'.includes(c)) {
      out.push({ kind: 'punct', value: c, line });
      i++;
    } else {
      let word = '';
      while (i < text.length && !/[\s'"#{}[\]():,]/.test(text[i]!)) word += text[i++];
      out.push({ kind: 'word', value: word, line });
    }
  }
  return out;
}

/** The strings of a `'key': [ ... ]` list starting at tokens[at] (the key), or undefined. */
function listAfter(tokens: Token[], at: number): Token[] | undefined {
  if (tokens[at + 1]?.value !== ':' || tokens[at + 2]?.value !== '[') return undefined;
  const items: Token[] = [];
  for (let i = at + 3; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'punct' && t.value === ']') return items;
    if (t.kind === 'string') items.push(t);
    else if (t.kind === 'punct' && t.value !== ',') return items;
  }
  return items;
}

/** The body of each command expansion in `value`, with gyp's nested-parenthesis matching. */
export function expansionsIn(value: string): { kind: 'expansion' | 'pymod'; body: string }[] {
  const out: { kind: 'expansion' | 'pymod'; body: string }[] = [];
  const start = /[<>]!@?(pymod_do_main)?\(/g;
  let match: RegExpExecArray | null;
  while ((match = start.exec(value)) !== null) {
    let depth = 1;
    let i = start.lastIndex;
    for (; i < value.length && depth > 0; i++) {
      if (value[i] === '(') depth++;
      else if (value[i] === ')') depth--;
    }
    const body = value.slice(start.lastIndex, depth === 0 ? i - 1 : i);
    out.push({ kind: match[1] ? 'pymod' : 'expansion', body });
    // Nested expansions inside the body run too (innermost first in gyp): scan the body as well.
    start.lastIndex = match.index + match[0].length;
  }
  return out;
}

/** gyp also accepts a command as a Python list literal: `<!(['python', 'x.py'])`. */
function commandLine(body: string): string {
  const trimmed = body.trim();
  if (!trimmed.startsWith('[')) return trimmed;
  const words = tokenize(trimmed).filter((t) => t.kind === 'string');
  return words.length > 0 ? words.map((t) => quote(t.value)).join(' ') : trimmed;
}

function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function resolveFrom(file: string, target: string): string | undefined {
  if (target.includes('<') || target.includes('>') || target.startsWith('/')) return undefined;
  const parts = file.split('/').slice(0, -1);
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(part);
  }
  return parts.join('/');
}

/** The commands a node-gyp build of this package runs, from binding.gyp and what it loads. */
export function gypCode(
  allPaths: ReadonlySet<string>,
  textOf: (path: string) => string | undefined,
): GypCode {
  const roots = ['binding.gyp', 'config.gypi', 'common.gypi'].filter((p) => allPaths.has(p));
  const files: string[] = [];
  const commands: GypCommand[] = [];
  const queue = [...roots];
  while (queue.length > 0 && files.length < MAX_FILES) {
    const file = queue.shift()!;
    if (files.includes(file)) continue;
    files.push(file);
    const text = textOf(file);
    if (text === undefined) continue;
    const tokens = tokenize(text);
    const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/') + 1) : '';
    tokens.forEach((token, at) => {
      if (token.kind !== 'string') return;
      for (const { kind, body } of expansionsIn(token.value)) {
        const command = kind === 'pymod' ? pymodCommand(body, dir) : commandLine(body);
        commands.push({ file, line: token.line, kind, command });
      }
      const list = listAfter(tokens, at);
      if (!list) return;
      if (token.value === 'action' && list.length > 0) {
        commands.push({
          file,
          line: token.line,
          kind: 'action',
          command: list.map((t) => quote(t.value)).join(' '),
        });
      } else if (token.value === 'includes' || token.value === 'dependencies') {
        for (const item of list) {
          const target = item.value.split(':')[0] ?? '';
          if (!/\.gypi?$/.test(target)) continue;
          const resolved = resolveFrom(file, target);
          if (resolved !== undefined && allPaths.has(resolved) && !queue.includes(resolved))
            queue.push(resolved);
        }
      }
    });
  }
  return { files, commands: commands.slice(0, MAX_COMMANDS) };
}

/** `<!pymod_do_main(module args)`: gyp imports `module` (found next to the gyp file) and calls DoMain. */
function pymodCommand(body: string, dir: string): string {
  const [module = '', ...args] = body.trim().split(/\s+/);
  return ['python3', `${dir}${module.replace(/\./g, '/')}.py`, ...args].join(' ');
}
