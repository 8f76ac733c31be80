// The mirror's packuments rewritten (tarball URLs pointing at the mirror) in a child process: parsing 79 MB
// of JSON in the bench process left it ~190 MB larger (323 MB against 136 MB) for the rest of the run, and
// that process also holds the server whose memory is measured (a worker thread still left ~100 MB).
import { fork } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export interface RewriteJob {
  base: string;
  /** Per package name: the downloaded packument and the mirror's copy to write. */
  files: { name: string; from: string; to: string }[];
}

/** Rewrites every packument of `job` in a child process; resolves when all are written. */
export function rewritePackuments(job: RewriteJob): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--rewrite'], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`the packument rewrite exited with ${code}`)),
    );
    child.send(job);
  });
}

async function rewrite({ base, files }: RewriteJob): Promise<void> {
  for (const { name, from, to } of files) {
    const packument = JSON.parse(await readFile(from, 'utf8')) as {
      versions?: Record<string, { dist?: { tarball?: string } }>;
    };
    for (const [version, manifest] of Object.entries(packument.versions ?? {}))
      if (manifest.dist) manifest.dist.tarball = `${base}/-/t/${name}@${version}.tgz`;
    await writeFile(to, JSON.stringify(packument));
  }
}

if (process.argv[2] === '--rewrite')
  process.once('message', (job: RewriteJob) => {
    rewrite(job)
      .then(() => process.disconnect())
      .catch((error: unknown) => {
        process.stderr.write(`packument rewrite: ${String(error)}\n`);
        process.exitCode = 1;
        process.disconnect();
      });
  });
