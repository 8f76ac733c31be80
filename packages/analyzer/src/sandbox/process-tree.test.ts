import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { createPersona } from './layout.js';
import { initPlan, initSyscalls, processTree, treeProcesses } from './process-tree.js';

const persona = createPersona();

test('process tree: unique pids, one runner below a shell, names as the kernel keeps them', () => {
  const all = treeProcesses(processTree(persona));
  assert.equal(new Set(all.map((p) => p.pid)).size, all.length, 'pids are unique');
  assert.equal(all[0]?.pid, 1);
  assert.equal(all.filter((p) => p.runner).length, 1);
  for (const p of all.filter((q) => !q.runner)) {
    assert.ok(Buffer.byteLength(p.comm) <= 15, `${p.comm} is longer than a comm`);
    assert.ok(p.cmdline.length > 0);
    assert.doesNotMatch(`${p.cmdline} ${p.comm}`, /sandbox|bwrap|strace|honeypot|secure-registry|perl/i);
  }
  const parentOf = new Map<number, number>();
  const walk = (p: ReturnType<typeof processTree>): void => {
    for (const c of p.children ?? []) {
      parentOf.set(c.pid, p.pid);
      walk(c);
    }
  };
  const tree = processTree(persona);
  walk(tree);
  const runner = all.find((p) => p.runner);
  const shell = all.find((p) => p.pid === parentOf.get(runner?.pid ?? -1));
  assert.equal(shell?.comm, 'bash');
});

test('init plan: one line per process, depth first, the persona’s ids and groups', () => {
  const lines = initPlan(processTree(persona), persona).split('\n');
  assert.equal(lines.length, treeProcesses(processTree(persona)).length);
  const fields = lines.map((l) => l.split('\t'));
  assert.ok(fields.every((f) => f.length === 8));
  assert.deepEqual(fields[0]?.slice(0, 4), ['0', '1', '0', '0']);
  const runner = fields.filter((f) => f[7] === 'runner');
  assert.equal(runner.length, 1);
  assert.deepEqual(runner[0]?.slice(2, 5), ['1000', '1000', '1000 4 27 998']);
  // Depth never jumps by more than one going down: the init rebuilds the tree from it.
  for (let i = 1; i < fields.length; i++)
    assert.ok(Number(fields[i]?.[0]) <= Number(fields[i - 1]?.[0]) + 1, lines[i]);
});

test('init plan: a tab or newline in an entry is refused, not passed on', () => {
  const tree = processTree(persona);
  tree.children?.push({ pid: 999, user: 0, cmdline: 'evil\tname', comm: 'x' });
  assert.throws(() => initPlan(tree, persona), /tab or newline/);
});

test('init system calls: known per architecture, none elsewhere', () => {
  assert.equal(initSyscalls('x64'), '157,126');
  assert.equal(initSyscalls('arm64'), '167,91');
  assert.equal(initSyscalls('riscv64'), '0,0');
});
