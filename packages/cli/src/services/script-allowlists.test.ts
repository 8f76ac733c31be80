import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planAllowlists } from './script-allowlists.js';

const decisions = [
  { name: '@s/a', version: '2.0.0', allowed: true, why: '' },
  { name: 'b', version: '1.0.0', allowed: false, why: '' },
];

async function inDir(files: Record<string, string>, run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sr-allowlists-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('npm and yarn: entries of other packages stay, stale versions of managed ones go, other settings stay', async () => {
  const manifest = {
    name: 'p',
    allowScripts: { '@s/a@1.0.0': true, keep: true, b: true },
    dependenciesMeta: { 'b@0.9.0': { built: true, optional: true }, other: { unplugged: true } },
  };
  await inDir({ 'package.json': `${JSON.stringify(manifest, null, 4)}\n` }, async (dir) => {
    const [npm, yarn] = await planAllowlists(dir, ['npm', 'yarn'], decisions);
    assert.equal(npm!.after, yarn!.after, 'one package.json for both');
    assert.ok(npm!.after.startsWith('{\n    "name"'), 'keeps the indentation');
    const after = JSON.parse(npm!.after) as typeof manifest;
    assert.deepEqual(after.allowScripts, { '@s/a@2.0.0': true, 'b@1.0.0': false, keep: true });
    assert.deepEqual(after.dependenciesMeta, {
      '@s/a@2.0.0': { built: true },
      'b@0.9.0': { optional: true },
      'b@1.0.0': { built: false },
      other: { unplugged: true },
    });
  });
});

test('pnpm: allowBuilds in pnpm-workspace.yaml (other settings kept); a pnpm 10 project gets onlyBuiltDependencies', async () => {
  await inDir(
    {
      'package.json': '{"name":"p"}',
      'pnpm-workspace.yaml': 'packages:\n  - lib/*\nallowBuilds:\n  b: true\n',
    },
    async (dir) => {
      const [pnpm] = await planAllowlists(dir, ['pnpm'], decisions);
      assert.equal(
        pnpm!.after,
        'packages:\n  - lib/*\nallowBuilds:\n  "@s/a@2.0.0": true\n  b@1.0.0: false\n',
      );
    },
  );
  await inDir({ 'package.json': '{"name":"p","packageManager":"pnpm@10.34.9"}' }, async (dir) => {
    const [pnpm] = await planAllowlists(dir, ['pnpm'], decisions);
    assert.deepEqual((JSON.parse(pnpm!.after) as { pnpm: unknown }).pnpm, {
      onlyBuiltDependencies: ['@s/a@2.0.0'],
    });
  });
});
