// The GitHub job summary of a scan ($GITHUB_STEP_SUMMARY, GitHub-flavoured Markdown): the counts,
// every rejected, held and unvettable package with its reason, the blocked chains down to the
// rejected package, and what ran where. Pure.
import type { PackageState, ScanPackage, ScanResult } from '@secure-registry/shared';
import { explain, sortByRootCause } from '../output/order.js';

/** Text safe in a Markdown table cell: no pipes, no line breaks, no HTML. */
function cell(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .slice(0, 500);
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

const SECTIONS: { title: string; states: readonly PackageState[] }[] = [
  { title: 'Rejected', states: ['rejected'] },
  { title: 'Held for review', states: ['review'] },
  { title: 'Not vettable', states: ['unvettable'] },
  { title: 'Without a verdict', states: ['pending', 'analyzing'] },
];

function packageTable(packages: readonly ScanPackage[]): string[] {
  const lines = ['| package | reason | findings |', '| --- | --- | --- |'];
  for (const pkg of packages) {
    const findings = pkg.findings
      .filter((f) => f.severity !== 'info')
      .map((f) => `${f.severity} ${f.rule}`)
      .join(', ');
    lines.push(`| ${code(`${pkg.name}@${pkg.version}`)} | ${cell(explain(pkg))} | ${cell(findings)} |`);
  }
  return lines;
}

export function buildJobSummary(input: {
  result: ScanResult;
  exitCode: number;
  failOn: string;
  lockfile: string;
  /** What ran in the scan and where (ui/phase-state.ts `phaseSummaryLines`). */
  analysis: readonly string[];
}): string {
  const { result } = input;
  const c = result.counts;
  const failing = c.rejected + c.blocked;
  const held = c.review + c.unvettable + c.pending + c.analyzing;
  const headline =
    failing + held === 0
      ? `every package is approved (${c.total})`
      : [failing > 0 ? `${failing} rejected or blocked` : '', held > 0 ? `${held} held` : '']
          .filter(Boolean)
          .join(', ') + ` of ${c.total}`;
  const out = [
    `## secure-registry: ${headline}`,
    '',
    `${code(input.lockfile)}, scan ${code(result.id)}`,
    '',
    '| approved | rejected | blocked | review | unvettable | total |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${c.approved} | ${c.rejected} | ${c.blocked} | ${c.review} | ${c.unvettable} | ${c.total} |`,
  ];
  const sorted = sortByRootCause(result.packages);
  for (const { title, states } of SECTIONS) {
    const packages = sorted.filter((p) => states.includes(p.state));
    if (packages.length === 0) continue;
    out.push('', `### ${title}`, '', ...packageTable(packages));
  }
  const blocked = sorted.filter((p) => p.state === 'blocked');
  if (blocked.length > 0) {
    out.push('', '### Blocked chains', '');
    for (const pkg of blocked) {
      const chain = pkg.blockedBy?.path.map(code).join(' → ') ?? code(`${pkg.name}@${pkg.version}`);
      out.push(`- ${chain}${pkg.blockedBy ? '' : ` — ${cell(explain(pkg))}`}`);
    }
  }
  out.push('', '### Analysis', '', '```text', ...input.analysis, '```', '');
  out.push(`Exit code ${input.exitCode} (\`--fail-on ${input.failOn}\`).`, '');
  return out.join('\n');
}
