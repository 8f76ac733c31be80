import { posix } from 'node:path';
import { CODE_PATTERNS, SCRIPT_DOWNLOAD_PATTERN, shellPatterns } from './code-patterns.js';
import { type CodeHit, excerptAt, LineIndex, scanText } from './code-scan.js';
import { gypCode } from './gyp-commands.js';
import { installCommands, isRecord, parseManifest, runsNodeGyp } from './manifest.js';
import { compareManifests, declaredFields } from './manifest-confusion.js';
import { previousInstallCommands, readMetadata, versionDoc } from './metadata.js';
import { extractSpecifiers, reachableFiles, resolveFile } from './reachability.js';
import { parseScriptCommand } from './script-parse.js';
import { readTarball } from './tar-reader.js';
import { detectTyposquat } from './typosquat.js';
import {
  type CodeSignal,
  DEFAULT_LIMITS,
  type ExtractionLimits,
  type InstallScript,
  type ManifestSummary,
  STATIC_ANALYZER_VERSION,
  type StaticReport,
} from './types.js';

export interface AnalyzeStaticInput {
  name: string;
  version: string;
  tarball: Uint8Array;
  packument: unknown;
  now?: Date;
  limits?: Partial<ExtractionLimits>;
}

/** The files npm writes, left in a directory for the caller (analyzeStaticInto). */
export interface ExtractedTree {
  dir: string;
  /** Package-relative paths of the regular files written. */
  files: string[];
  /** Their total size, in bytes. */
  bytes: number;
}

const SCANNED_EXTENSIONS = new Set([
  '.js',
  '.cjs',
  '.mjs',
  '.jsx',
  '.ts',
  '.cts',
  '.mts',
  '.tsx',
  '.sh',
  '.bash',
  '.zsh',
  '.command',
  '.ps1',
  '.bat',
  '.cmd',
  '.py',
  '.gyp',
  '.gypi',
  '',
]);
const MAX_CODE_SIGNALS = 500;
const MAX_NPM_RUN_DEPTH = 3;

function isScanned(path: string): boolean {
  const base = posix.basename(path);
  if (base === 'package.json' || base === 'binding.gyp') return true;
  if (path.endsWith('.d.ts') || path.endsWith('.d.mts') || path.endsWith('.d.cts')) return false;
  const ext = posix.extname(base).toLowerCase();
  return SCANNED_EXTENSIONS.has(ext) && !(ext === '' && base.startsWith('.'));
}

function decodeText(bytes: Buffer): string | undefined {
  const head = bytes.subarray(0, 8000);
  if (head.includes(0)) return undefined;
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

interface ScriptPlan {
  installRoots: string[];
  shellFiles: string[];
  /** Other files run at install (Python): scanned as install code, not followed. */
  otherFiles: string[];
  inline: { file: string; code: string; shell: boolean }[];
}

/** Follows each install command to the files it runs (and to `npm run` targets). */
function planScripts(
  commands: { event: string; command: string; label?: string }[],
  scripts: Record<string, string>,
  allPaths: ReadonlySet<string>,
  dirMain: (dir: string) => string | undefined,
): { plan: ScriptPlan; filesByEvent: Map<string, string[]> } {
  const plan: ScriptPlan = { installRoots: [], shellFiles: [], otherFiles: [], inline: [] };
  const filesByEvent = new Map<string, string[]>();
  for (const { event, command, label } of commands) {
    const files: string[] = [];
    const visit = (cmd: string, label: string, depth: number): void => {
      const targets = parseScriptCommand(cmd);
      for (const file of targets.nodeFiles) {
        const resolved = resolveFile(file, allPaths, dirMain);
        if (resolved) {
          files.push(resolved);
          plan.installRoots.push(resolved);
        }
      }
      for (const file of targets.shellFiles) {
        const resolved = resolveFile(file, allPaths);
        if (resolved) {
          files.push(resolved);
          plan.shellFiles.push(resolved);
        }
      }
      for (const code of targets.inlineJs) {
        plan.inline.push({ file: label, code, shell: false });
        // `node -e "require('./postinstall')"`: what the inline code requires runs at install too.
        for (const spec of extractSpecifiers(code)) {
          const resolved =
            spec.startsWith('./') || spec.startsWith('../')
              ? resolveFile(spec, allPaths, dirMain)
              : undefined;
          if (resolved) {
            files.push(resolved);
            plan.installRoots.push(resolved);
          }
        }
      }
      for (const file of targets.pythonFiles) {
        const resolved = resolveFile(file, allPaths);
        if (resolved) {
          files.push(resolved);
          plan.otherFiles.push(resolved);
        }
      }
      for (const code of targets.inlineShell) plan.inline.push({ file: label, code, shell: true });
      for (const run of targets.npmRuns) {
        const next = scripts[run];
        if (next !== undefined && depth < MAX_NPM_RUN_DEPTH) {
          plan.inline.push({ file: `package.json#scripts.${run}`, code: next, shell: true });
          visit(next, `package.json#scripts.${run}`, depth + 1);
        }
      }
    };
    visit(command, label ?? `package.json#scripts.${event}`, 0);
    filesByEvent.set(event, [...new Set([...(filesByEvent.get(event) ?? []), ...files])]);
  }
  return { plan, filesByEvent };
}

function scanShell(file: string, text: string, includeBareDownload: boolean): CodeHit[] {
  const hits = scanText(file, text, shellPatterns());
  if (includeBareDownload && hits.length === 0) {
    const match = SCRIPT_DOWNLOAD_PATTERN.exec(text);
    if (match) {
      const index = new LineIndex(text);
      hits.push({
        kind: 'shell-downloader',
        pattern: 'download-tool',
        strength: 'weak',
        file,
        line: index.lineOf(match.index),
        excerpt: excerptAt(text, index, match.index),
        count: 1,
      });
    }
  }
  return hits;
}

function signalOrder(a: CodeSignal, b: CodeSignal): number {
  const rank = (s: CodeSignal): number =>
    (s.reach.install ? 0 : s.reach.import ? 1 : 2) * 2 + (s.strength === 'strong' ? 0 : 1);
  return (
    rank(a) - rank(b) || a.file.localeCompare(b.file) || a.line - b.line || a.pattern.localeCompare(b.pattern)
  );
}

/**
 * The tarball's manifest against the registry's for this version: the differences, and the
 * tarball's own values of the confusable fields (what the vetted registry serves).
 */
/** Scanned files at least this large are bundles (a CLI or library compiled into one file). */
const BUNDLE_BYTES = 1024 * 1024;

function checkManifestConfusion(report: StaticReport, text: string | undefined, registry: unknown): void {
  if (text === undefined || !report.manifest.found || report.manifest.error) return;
  let tarball: unknown;
  try {
    tarball = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    return;
  }
  if (!isRecord(tarball)) return;
  report.manifest.declared = declaredFields(tarball);
  if (!isRecord(registry)) return;
  // A binding.gyp counts even with `gypfile: false`: a registry copy that names the implicit
  // `node-gyp rebuild` for it hides no code (npm ci builds it anyway; the install phase runs it).
  report.manifestDifferences = compareManifests(registry, tarball, report.manifest.hasBindingGyp);
}

function emptyReport(input: AnalyzeStaticInput, manifest: ManifestSummary): StaticReport {
  return {
    schemaVersion: 1,
    analyzerVersion: STATIC_ANALYZER_VERSION,
    name: input.name,
    version: input.version,
    extraction: {
      complete: false,
      gzip: false,
      compressedBytes: input.tarball?.byteLength ?? 0,
      unpackedBytes: 0,
      fileCount: 0,
      issues: [],
    },
    manifest,
    installScripts: [],
    code: [],
    reachable: { install: [], import: [] },
    skippedFiles: [],
    typosquat: null,
    metadata: {
      versionCount: 0,
      maintainers: { current: [], previous: null, added: [], removed: [] },
      provenance: { current: false, previous: null, lost: false },
      packumentInstallEvents: null,
    },
    errors: [],
  };
}

async function analyze(
  input: AnalyzeStaticInput,
  report: StaticReport,
  keepIn?: string,
): Promise<ExtractedTree | undefined> {
  const now = input.now ?? new Date();
  const limits: ExtractionLimits = { ...DEFAULT_LIMITS, ...input.limits };
  report.typosquat = detectTyposquat(input.name);
  report.metadata = readMetadata(input.packument, input.version, now);

  const contents = await readTarball(input.tarball, { limits, keep: (path) => isScanned(path), keepIn });
  const tree =
    keepIn === undefined
      ? undefined
      : { dir: keepIn, files: [...contents.allPaths], bytes: contents.allBytes };
  report.extraction = contents.extraction;
  report.skippedFiles = contents.skipped.slice(0, 100);
  report.bundles = [...contents.files]
    .filter(([, file]) => file.bytes.length >= BUNDLE_BYTES)
    .map(([path, file]) => ({ path, bytes: file.bytes.length }))
    .sort((a, b) => a.path.localeCompare(b.path))
    .slice(0, 100);
  const texts = new Map<string, string>();
  for (const [path, file] of [...contents.files].sort(([a], [b]) => a.localeCompare(b))) {
    const text = decodeText(file.bytes);
    if (text !== undefined) texts.set(path, text);
  }

  const manifest = parseManifest(texts.get('package.json'), contents.allPaths.has('binding.gyp'));
  report.manifest = manifest;
  checkManifestConfusion(report, texts.get('package.json'), versionDoc(input.packument, input.version));
  const dirMain = (dir: string): string | undefined => {
    const text = texts.get(dir === '.' ? 'package.json' : `${dir}/package.json`);
    if (text === undefined) return undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      return isRecord(parsed) && typeof parsed.main === 'string' ? parsed.main : undefined;
    } catch {
      return undefined;
    }
  };

  const commands = installCommands(manifest.scripts, manifest.hasBindingGyp);
  // A node-gyp build runs the gyp files' command expansions and actions: install-time code too.
  const gypEvent = commands.find((c) => c.implicit || runsNodeGyp(c.command))?.event;
  const gyp =
    manifest.hasBindingGyp && gypEvent ? gypCode(contents.allPaths, (p) => texts.get(p)) : undefined;
  const gypCommands = (gyp?.commands ?? []).map((c) => ({
    event: gypEvent!,
    command: c.command,
    label: `${c.file}#${c.kind}`,
    line: c.line,
  }));
  const { plan, filesByEvent } = planScripts(
    [...commands, ...gypCommands],
    manifest.scripts,
    contents.allPaths,
    dirMain,
  );
  if (gyp && gypEvent) {
    filesByEvent.set(gypEvent, [...new Set([...gyp.files, ...(filesByEvent.get(gypEvent) ?? [])])]);
    plan.otherFiles.push(...gyp.files);
  }
  const previous = report.metadata.previousVersion;
  const previousCommands =
    previous === undefined ? null : previousInstallCommands(versionDoc(input.packument, previous));
  report.installScripts = commands.map((c): InstallScript => {
    const before = previousCommands?.get(c.event);
    return {
      event: c.event,
      command: c.command,
      implicit: c.implicit,
      isNew: previousCommands === null ? null : !previousCommands.has(c.event),
      ...(before !== undefined && before !== c.command ? { previousCommand: before } : {}),
      files: filesByEvent.get(c.event) ?? [],
    };
  });

  const textOf = (path: string): string | undefined => texts.get(path);
  const install = reachableFiles({
    roots: plan.installRoots,
    files: contents.allPaths,
    textOf,
    packageName: input.name,
    dirMain,
  });
  const imported = reachableFiles({
    roots: manifest.entryPoints,
    files: contents.allPaths,
    textOf,
    packageName: input.name,
    dirMain,
  });
  report.reachable = { install, import: imported };
  const installSet = new Set([...install, ...plan.shellFiles, ...plan.otherFiles]);
  const importSet = new Set(imported);

  const signals: CodeSignal[] = [];
  const add = (hits: CodeHit[], reach: CodeSignal['reach']): void => {
    for (const hit of hits) {
      // Network capability only matters as context inside reachable code.
      if (hit.kind === 'network' && hit.strength === 'weak' && !reach.install && !reach.import) continue;
      signals.push({ ...hit, reach });
    }
  };
  for (const { event, command } of commands) {
    add(scanShell(`package.json#scripts.${event}`, command, true), { install: true, import: false });
  }
  for (const { label, command, line } of gypCommands) {
    const hits = scanShell(label, command, true).map((h) => ({ ...h, line: line + h.line - 1 }));
    add(hits, { install: true, import: false });
  }
  for (const inline of plan.inline) {
    const hits = inline.shell
      ? scanShell(inline.file, inline.code, true)
      : scanText(inline.file, inline.code);
    add(hits, { install: true, import: false });
  }
  for (const [path, text] of texts) {
    if (posix.basename(path) === 'package.json') continue;
    const reach = { install: installSet.has(path), import: importSet.has(path) };
    const isShell = /\.(?:sh|bash|zsh|command)$/.test(path) || plan.shellFiles.includes(path);
    add(isShell ? scanShell(path, text, reach.install) : scanText(path, text, CODE_PATTERNS), reach);
  }
  report.code = signals.sort(signalOrder).slice(0, MAX_CODE_SIGNALS);
  return tree;
}

/**
 * Static analysis of one package version: safe in-memory extraction, manifest, code and
 * metadata signals. Never throws: hostile input becomes extraction issues and signals, and
 * failures of the analysis itself are listed in `errors` (a report with errors is incomplete).
 */
export async function analyzeStatic(input: AnalyzeStaticInput): Promise<StaticReport> {
  return (await analyzeStaticInto(input)).report;
}

/**
 * analyzeStatic, extracting into `dir` (an empty directory) and leaving npm's files there for the
 * caller (the sandbox runs the very files that were analysed, extracted once): `tree` lists them,
 * undefined when the analysis failed before the extraction was complete.
 */
export async function analyzeStaticInto(
  input: AnalyzeStaticInput,
  dir?: string,
): Promise<{ report: StaticReport; tree: ExtractedTree | undefined }> {
  const report = emptyReport(input, { found: false, scripts: {}, hasBindingGyp: false, entryPoints: [] });
  let tree: ExtractedTree | undefined;
  try {
    if (!(input.tarball instanceof Uint8Array)) throw new TypeError('tarball must be a Uint8Array');
    tree = await analyze(input, report, dir);
  } catch (error) {
    report.errors.push(
      `static analysis failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 500),
    );
  }
  return { report, tree };
}
