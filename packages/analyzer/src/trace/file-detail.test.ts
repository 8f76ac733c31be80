import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { reduceEvents } from './reduce.js';
import { parseStrace } from './strace-parser.js';

const HOME = '/home/dev';
const PROJECT = '/home/dev/app';
const PKG = '/home/dev/app/node_modules/pkg';
const AT = `AT_FDCWD<${PKG}>`;

function reduce(trace: string, existingFiles = [{ path: `${PROJECT}/README.md`, size: 41 }]) {
  return reduceEvents({
    events: parseStrace(trace),
    phase: 'install',
    packageName: 'pkg@1.0.0',
    packageDir: PKG,
    home: HOME,
    projectDir: PROJECT,
    honeytokens: [],
    status: 'completed',
    durationMs: 10,
    existingFiles: [...existingFiles, { path: `${PROJECT}/src/main.ts`, size: 120 }],
  });
}

const line = (text: string): string => `200 ${text}`;

describe('file detail in behaviour reports', () => {
  test('overwrites and deletes of planted files carry their size; O_TRUNC and truncate(2) mark truncation', () => {
    const report = reduce(
      [
        line(`openat(${AT}, "${PROJECT}/README.md", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 3`),
        line(`unlink("${PROJECT}/src/main.ts") = 0`),
        line(`truncate("${PROJECT}/package.json", 0) = 0`),
        line(`openat(${AT}, "${PROJECT}/NOTES.md", O_WRONLY|O_APPEND) = 3`),
      ].join('\n'),
    );
    const byPath = new Map(report.files.map((f) => [`${f.op} ${f.path}`, f]));
    assert.equal(byPath.get(`write ${PROJECT}/README.md`)?.existedBytes, 41);
    assert.equal(byPath.get(`write ${PROJECT}/README.md`)?.truncated, true);
    assert.equal(byPath.get(`delete ${PROJECT}/src/main.ts`)?.existedBytes, 120);
    assert.equal(byPath.get(`write ${PROJECT}/package.json`)?.truncated, true);
    assert.equal(byPath.get(`write ${PROJECT}/package.json`)?.existedBytes, undefined);
    assert.equal(byPath.get(`write ${PROJECT}/NOTES.md`)?.truncated, undefined);
    assert.deepEqual(report.layout, { home: HOME, projectDir: PROJECT, packageDir: PKG });
  });

  test('a rename over a planted file replaces it; deleting its own temporary file is scratch', () => {
    const report = reduce(
      [
        line(`openat(${AT}, "${PROJECT}/README.md.tmp", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3`),
        line(`rename("${PROJECT}/README.md.tmp", "${PROJECT}/README.md") = 0`),
        line(`openat(${AT}, "${PROJECT}/.cache-x", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3`),
        line(`unlink("${PROJECT}/.cache-x") = 0`),
        line(`unlink("${PROJECT}/never-there") = -1 ENOENT (No such file or directory)`),
      ].join('\n'),
    );
    const byPath = new Map(report.files.map((f) => [`${f.op} ${f.path}`, f]));
    assert.equal(byPath.get(`write ${PROJECT}/README.md`)?.truncated, true);
    assert.equal(byPath.get(`write ${PROJECT}/README.md`)?.existedBytes, 41);
    assert.equal(byPath.get(`delete ${PROJECT}/README.md.tmp`)?.ownScratch, true);
    assert.equal(byPath.get(`delete ${PROJECT}/.cache-x`)?.ownScratch, true);
    assert.equal(byPath.get(`delete ${PROJECT}/never-there`)?.ownScratch, undefined);
  });

  test('a write named after a file the package read from its own directory is a copy of it', () => {
    const report = reduce(
      [
        line(`openat(${AT}, "${PKG}/lib/mockServiceWorker.js", O_RDONLY|O_CLOEXEC) = 3`),
        line(`mkdir("${PROJECT}/public", 0777) = 0`),
        line(`openat(${AT}, "${PROJECT}/public/mockServiceWorker.js", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 4`),
        line(`openat(${AT}, "${PROJECT}/public/other.js", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 5`),
      ].join('\n'),
    );
    const byPath = new Map(report.files.map((f) => [f.path, f]));
    assert.equal(
      byPath.get(`${PROJECT}/public/mockServiceWorker.js`)?.copyOf,
      `${PKG}/lib/mockServiceWorker.js`,
    );
    assert.equal(byPath.get(`${PROJECT}/public/other.js`)?.copyOf, undefined);
    assert.equal(byPath.get(`${PROJECT}/public`)?.directory, true);
    assert.equal(byPath.get(`${PROJECT}/public/other.js`)?.directory, undefined);
  });
});
