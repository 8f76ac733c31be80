import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pacote from 'pacote';
import { extractTarball } from './tar-extract.js';
import { hostileTarball } from './test-support/hostile-tar.js';
import { DEFAULT_LIMITS } from './types.js';

/**
 * Differential test: for thousands of generated hostile tarballs, the files our extraction yields
 * (path, bytes, executable bit) are exactly the files pacote — npm's extractor — writes, or we
 * reject the archive (an extraction that fails or exceeds our limits is a critical finding).
 * TAR_FUZZ_SEED and TAR_FUZZ_CASES choose the cases; a failure prints the seed that reproduces it.
 */

const BASE_SEED = Number(process.env.TAR_FUZZ_SEED ?? 20261202);
const CASES = Number(process.env.TAR_FUZZ_CASES ?? 2000);

type FileSet = Map<string, string>;

/** An independent reading of a directory: every entry with its kind, content hash and x bit. */
async function snapshot(root: string): Promise<FileSet> {
  const out: FileSet = new Map();
  const visit = async (dir: string, prefix: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const full = join(dir, name);
      const st = await lstat(full);
      const path = prefix + name;
      if (st.isDirectory()) await visit(full, `${path}/`);
      else if (st.isFile()) {
        const hash = createHash('sha256')
          .update(await readFile(full))
          .digest('hex')
          .slice(0, 16);
        out.set(path, `file ${hash} ${st.mode & 0o100 ? 'x' : '-'}`);
      } else out.set(path, `other mode ${st.mode.toString(8)}`);
    }
  };
  await visit(root, '');
  return out;
}

/** pacote's file fetcher reads package.json after extracting (to chmod bins); npm from a registry does not fail there. */
function isManifestReadError(error: unknown): boolean {
  const e = error as { code?: string; path?: string; message?: string };
  return (
    e.code === 'EJSONPARSE' ||
    (e.code === 'ENOENT' && typeof e.path === 'string' && e.path.endsWith('package.json'))
  );
}

const TARBALL_FROM_RESOLVED = Symbol.for('pacote.Fetcher._tarballFromResolved');

/**
 * pacote's file fetcher, reading the file in 64 KB chunks instead of fs-minipass's 16 MB buffers (a
 * registry download arrives in small chunks too); the extraction is pacote's own.
 */
class FileFetcher extends pacote.FileFetcher {
  [TARBALL_FROM_RESOLVED](): NodeJS.ReadableStream {
    return createReadStream(this.resolved, { highWaterMark: 64 * 1024 });
  }
}

let work = '';
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'sr-tar-diff-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function compare(seed: number): Promise<string | null> {
  const tgz = hostileTarball(seed);
  const dir = join(work, String(seed));
  await mkdir(dir);
  try {
    const file = join(dir, 'pkg.tgz');
    await writeFile(file, tgz);
    let npmError: unknown = null;
    const fetcher = new FileFetcher(`file:${file}`, { cache: join(work, 'cache') });
    await fetcher.extract(join(dir, 'npm')).catch((error: unknown) => {
      npmError = error;
    });
    const npmRead = npmError === null || isManifestReadError(npmError);
    const oursDir = join(dir, 'ours');
    await mkdir(oursDir);
    const ours = await extractTarball(tgz, oursDir, { limits: DEFAULT_LIMITS });
    if (!npmRead) {
      if (ours.outcome !== 'extracted' && !ours.summary.complete) return null;
      return `npm's extraction fails (${String(npmError)}) but ours extracted it`;
    }
    if (ours.outcome === 'over-limits' && !ours.summary.complete) return null; // rejected
    if (ours.outcome !== 'extracted')
      return `npm extracts it but ours failed: ${JSON.stringify(ours.summary.issues)}`;
    const theirs = await snapshot(join(dir, 'npm'));
    const mine = await snapshot(oursDir);
    if (mine.size !== ours.files.size) return `reported ${ours.files.size} files, wrote ${mine.size}`;
    const diff = [...new Set([...theirs.keys(), ...mine.keys()])]
      .filter((p) => theirs.get(p) !== mine.get(p))
      .map((p) => `${JSON.stringify(p)}: npm ${theirs.get(p) ?? 'absent'}, ours ${mine.get(p) ?? 'absent'}`);
    return diff.length > 0 ? diff.join('; ') : null;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test(`our extraction yields exactly npm's files for ${CASES} hostile tarballs (seed ${BASE_SEED})`, async () => {
  const failures: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < CASES; i = next++) {
      const seed = BASE_SEED + i;
      const problem = await compare(seed);
      if (problem) failures.push(`seed ${seed} (TAR_FUZZ_SEED=${seed} TAR_FUZZ_CASES=1): ${problem}`);
    }
  };
  await Promise.all([worker(), worker()]);
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} of ${CASES} tarballs differ`);
});
