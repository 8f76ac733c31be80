// Known runtime noise, process identities and path patterns shared by the reducer and the baseline.
// Noise is matched on WHAT ran (the process identity) and WHERE (a normalised path), never on which
// package is being analysed.
import type { ReportOp, PathContext } from './file-class.js';
import { basename, isWithin } from './paths.js';

export interface NoiseRule {
  /** Why this is noise (kept next to the rule so the list can be reviewed). */
  why: string;
  /** Matched against the process identity ({@link processKey}); any process when absent. */
  process?: RegExp;
  /** Matched against the normalised path ({@link pathPattern}). */
  path: RegExp;
  /** Operations the rule covers; all when absent. */
  ops?: readonly ReportOp[];
}

/** npm subcommands that run lifecycle scripts: their own config/cache I/O is runtime noise. */
const NPM_RUNNER = /^npm (run|run-script|install|i|ci|rebuild|exec|test|start)$/;

export const KNOWN_NOISE: readonly NoiseRule[] = [
  {
    why: 'devices every program opens: stdio redirections (`> /dev/null`), randomness, the terminal',
    path: /^\/dev\/(null|zero|full|u?random|tty|ptmx|pts\/#|fd\/#|std(in|out|err))$/,
  },
  {
    why: "the kernel's views of the process and machine (/proc/self, cgroup limits, meminfo, cpu info)",
    path: /^\/(proc|sys)(\/|$)/,
  },
  {
    why: 'the dynamic loader cache and locale data every binary reads at start-up',
    path: /^(\/etc\/ld\.so\.cache|\/usr\/lib\/locale\/.*|\/usr\/share\/locale\/.*)$/,
    ops: ['read'],
  },
  {
    why: "Node's module resolution walks up from the package reading package.json (the `type` field)",
    path: /^\$PROJECT(\/node_modules)?\/package\.json$/,
    ops: ['read'],
  },
  {
    why: "Node's legacy global module folders, probed when a require() misses",
    path: /^~\/\.node_(modules|libraries)(\/|$)/,
    ops: ['read'],
  },
  {
    why: "npm running the lifecycle: its own config, cache, logs, update check and the project's manifests",
    process: NPM_RUNNER,
    path: /^(~\/\.npmrc|\$PROJECT\/\.npmrc|~\/\.npm\/.*|~\/\.config\/configstore\/update-notifier-npm\.json.*|\$PROJECT\/node_modules\/\.package-lock\.json|\$PROJECT\/package(-lock)?\.json|\$PROJECT\/node_modules\/\.bin\/.*)$/,
  },
  {
    why: "node-gyp's header cache, read and written by node-gyp and the compilers of a native build",
    process:
      /^(node-gyp|make|cc|c\+\+|gcc|g\+\+|clang|clang\+\+|cc1|cc1plus|as|ld|collect2|python3?(\.\d+)?)$/,
    path: /^~\/\.(cache\/node-gyp|node-gyp)\//,
  },
  {
    why: "Python trying to cache bytecode next to npm's bundled gyp (read-only, as in a root-owned global npm)",
    process: /^python3?(\.\d+)?$/,
    path: /^\/usr\/local\/lib\/node_modules\/npm\/node_modules\/node-gyp\/gyp\/(.+\/)?__pycache__(\/[^/]+)?$/,
  },
  {
    why: 'Python start-up probing its per-user site directory (node-gyp runs gyp in Python)',
    process: /^python3?(\.\d+)?$/,
    path: /^~\/\.local\/lib\/python[\d.]+\//,
    ops: ['read'],
  },
  {
    why: 'git reading its own configuration and the repository (hook installers run git)',
    process: /^git$/,
    path: /^(~\/\.gitconfig|~\/\.config\/git\/.*|\$PROJECT\/\.git\/(config|HEAD|index|packed-refs|description|objects\/.*|refs\/.*|info\/.*))$/,
    ops: ['read'],
  },
];

/** Processes that are internals of a compiler driver: they only ever appear in native builds. */
export const COMPILER_INTERNALS = new Set([
  'cc1',
  'cc1plus',
  'cc1obj',
  'as',
  'ld',
  'ld.bfd',
  'ld.gold',
  'collect2',
  'lto-wrapper',
]);
/** Build tools that are noise when they run under node-gyp (`node-gyp rebuild` → make → g++ …). */
export const BUILD_TOOLS = new Set([
  'make',
  'gmake',
  'cc',
  'c++',
  'gcc',
  'g++',
  'clang',
  'clang++',
  'python3',
  'python',
]);

/** UNIX sockets the C library probes on its own (name service cache, journald). */
export const NOISE_UNIX_SOCKETS = /^(\/var)?\/run\/(nscd\/socket|systemd\/journal\/.*)$/;

const INTERPRETERS = new Set(['node', 'nodejs', 'bun', 'deno']);

function npmKey(rest: readonly string[]): string {
  const sub = rest.find((a) => !a.startsWith('-'));
  return sub ? `npm ${sub}` : 'npm';
}

/**
 * A short identity of what a process runs: `npm run`, `node $PKG/install.js`, `node-gyp`, `curl`.
 * Used to match noise rules and baselines to the process that did the I/O.
 */
export function processKey(argv: readonly string[], ctx?: PathContext): string {
  const exe = basename(argv[0] ?? '?');
  if (INTERPRETERS.has(exe)) {
    const i = argv.findIndex((a, j) => j > 0 && !a.startsWith('-'));
    const script = i > 0 ? (argv[i] as string) : undefined;
    if (!script) return exe;
    if (/(npm-cli\.js|\/bin\/npm)$/.test(script)) return npmKey(argv.slice(i + 1));
    if (/(npx-cli\.js|\/bin\/npx)$/.test(script)) return 'npx';
    if (/node-gyp(\.js)?$/.test(script)) return 'node-gyp';
    return `${exe} ${ctx ? pathPattern(script, ctx) : script}`;
  }
  if (exe === 'npm') return npmKey(argv.slice(1));
  return exe;
}

/** Replaces run-specific parts of text: the package, project and home dirs, numbers and hex ids. */
export function pathPattern(path: string, ctx: PathContext): string {
  let p = path;
  if (ctx.packageDir && isWithin(p, ctx.packageDir))
    p = `$PKG${p.slice(ctx.packageDir.replace(/\/$/, '').length)}`;
  else if (ctx.projectDir && isWithin(p, ctx.projectDir))
    p = `$PROJECT${p.slice(ctx.projectDir.replace(/\/$/, '').length)}`;
  else if (ctx.home && isWithin(p, ctx.home)) p = `~${p.slice(ctx.home.replace(/\/$/, '').length)}`;
  return p.replace(/[0-9a-f]{8,}/gi, '#').replace(/\d+/g, '#');
}

/** The argv of a process with run-specific parts replaced (for baselines). */
export function argvPattern(argv: readonly string[], ctx: PathContext): string {
  return argv.map((a) => (a.startsWith('/') ? pathPattern(a, ctx) : a.replace(/\d+/g, '#'))).join(' ');
}

/** True when a file operation of `key` on `pattern` is known runtime noise. */
export function isKnownNoise(key: string, pattern: string, op: ReportOp): boolean {
  return KNOWN_NOISE.some(
    (r) => (!r.ops || r.ops.includes(op)) && (!r.process || r.process.test(key)) && r.path.test(pattern),
  );
}
