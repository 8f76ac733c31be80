/** `--help`'s environment section and the README's table, both from the one table (./variables.ts). */
import { VARIABLES } from './variables.js';
import type { Variable, VariableGroup } from './variables.js';

const GROUP_TITLES: Record<VariableGroup, string> = {
  server: 'HTTP server',
  storage: 'storage',
  analysis: 'analysis and the job queue',
  sandbox: 'sandbox (dynamic analysis)',
  verdict: 'verdict policy and LLM investigator',
  external: "read from other tools' variables",
};

function entries(): Variable<unknown>[] {
  return Object.values(VARIABLES) as Variable<unknown>[];
}

/** The environment section of `secure-registry-server --help`: every variable, grouped. */
export function environmentHelp(): string {
  const width = Math.max(...entries().map((spec) => spec.name.length)) + 2;
  const lines: string[] = [];
  for (const group of Object.keys(GROUP_TITLES) as VariableGroup[]) {
    lines.push(`  ${GROUP_TITLES[group]}:`);
    for (const spec of entries().filter((entry) => entry.group === group)) {
      const legacy = spec.legacy ? `; old name ${spec.legacy}` : '';
      lines.push(`    ${spec.name.padEnd(width)}${spec.description} (default: ${spec.default}${legacy})`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The README's server configuration table (Markdown), generated from the same entries. */
export function environmentMarkdown(): string {
  const rows = entries().map((spec) => {
    const legacy = spec.legacy ? ` (was \`${spec.legacy}\`)` : '';
    return `| \`${spec.name}\`${legacy} | ${spec.description} | ${spec.default} |`;
  });
  return ['| variable | meaning | default |', '| --- | --- | --- |', ...rows].join('\n');
}
