/**
 * Extraction benchmark: the analyzer's npm-exact extraction (readTarball: node-tar with pacote's
 * options into a temporary directory, every file read back) against pacote.extract — npm's own
 * extraction — of the same tarballs, in the same run, interleaved. Also counts the real tarballs
 * the extraction flags (each flag is a critical finding: there should be none on ordinary packages).
 * The same extraction into a memory file system (/dev/shm, when the machine has one) is timed too,
 * interleaved, and its ratio to os.tmpdir() printed: what extracting into memory (the default) gains.
 * Usage: node bench/dist/extract-vs-pacote.js --dir DIR_OF_TGZ [--limit N] [--runs N]
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_LIMITS, readTarball } from '@secure-registry/analyzer';

const pacote = createRequire(import.meta.url)('pacote') as {
  extract(spec: string, dest: string, opts: Record<string, unknown>): Promise<unknown>;
};

const { values } = parseArgs({
  options: { dir: { type: 'string' }, limit: { type: 'string' }, runs: { type: 'string' } },
});
if (!values.dir) {
  console.error('usage: extract-vs-pacote --dir DIR_OF_TGZ [--limit N] [--runs N]');
  process.exit(3);
}
const dir = path.resolve(values.dir);
const names = (await readdir(dir)).filter((n) => n.endsWith('.tgz')).sort();
const files = names.slice(0, Number(values.limit ?? names.length)).map((n) => path.join(dir, n));
const runs = Number(values.runs ?? 3);
const work = await mkdtemp(path.join(tmpdir(), 'sr-extract-bench-'));
const memory = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

async function ours(file: string, tempRoot?: string): Promise<string[]> {
  const contents = await readTarball(await readFile(file), {
    limits: DEFAULT_LIMITS,
    keep: () => true,
    tempRoot,
  });
  return contents.extraction.issues.map((i) => `${i.kind}: ${i.detail}`);
}

async function npm(file: string, i: number): Promise<void> {
  const dest = path.join(work, String(i));
  await pacote.extract(`file:${file}`, dest, { cache: path.join(work, 'cache') }).catch(() => undefined);
  await rm(dest, { recursive: true, force: true });
}

const totals = { ours: [] as number[], memory: [] as number[], npm: [] as number[] };
const flagged = new Map<string, string[]>();
try {
  for (let run = 0; run <= runs; run++) {
    let oursMs = 0;
    let memoryMs = 0;
    let npmMs = 0;
    for (const [i, file] of files.entries()) {
      let started = performance.now();
      const issues = await ours(file, tmpdir());
      oursMs += performance.now() - started;
      started = performance.now();
      await ours(file, memory);
      memoryMs += performance.now() - started;
      if (issues.length > 0) flagged.set(path.basename(file), issues);
      started = performance.now();
      await npm(file, i);
      npmMs += performance.now() - started;
    }
    // run 0 warms the file-system cache and the module loading
    if (run > 0) {
      totals.ours.push(oursMs);
      totals.memory.push(memoryMs);
      totals.npm.push(npmMs);
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const o = median(totals.ours);
const m = median(totals.memory);
const n = median(totals.npm);
const perTarball = (ms: number): string =>
  `${ms.toFixed(0)} ms (${(ms / files.length).toFixed(2)} ms/tarball)`;
console.log(`${files.length} tarballs, median of ${runs} runs`);
console.log(`ours, into ${tmpdir()} (extract + read back): ${perTarball(o)}`);
console.log(`ours, into ${memory}: ${perTarball(m)}`);
console.log(`ratio ${tmpdir()}/${memory}: ${(o / m).toFixed(2)}`);
console.log(`pacote.extract (npm, into ${tmpdir()}): ${perTarball(n)}`);
console.log(`ratio ours/npm: ${(o / n).toFixed(2)}`);
console.log(`flagged tarballs: ${flagged.size}`);
for (const [name, issues] of [...flagged].slice(0, 10))
  console.log(`  ${name}: ${issues.slice(0, 3).join(' | ')}`);
