import { Box, Text } from 'ink';
import { maxSeverity } from '@secure-registry/shared';
import type { Evidence, HeldPackage, Severity } from '@secure-registry/shared';

const SEVERITY_COLOR: Record<Severity, string> = {
  critical: 'red',
  high: 'red',
  medium: 'yellow',
  low: 'cyan',
  info: 'gray',
};

export function severityColor(severity: Severity | undefined): string {
  return severity ? SEVERITY_COLOR[severity] : 'gray';
}

/** One line describing a piece of evidence: where, and what was seen. */
export function describeEvidence(evidence: Evidence): string {
  const where = evidence.path ? `${evidence.path}${evidence.line ? `:${evidence.line}` : ''}` : undefined;
  const seq = evidence.eventSeq !== undefined ? `event #${evidence.eventSeq}` : undefined;
  const what = evidence.excerpt ?? evidence.detail;
  return [evidence.kind, where, seq, what ? clip(what, 160) : undefined].filter(Boolean).join(' · ');
}

function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function topSeverity(pkg: HeldPackage): Severity | undefined {
  return maxSeverity(pkg.findings);
}

/** One held package: why it is held, every finding with its evidence, earlier decisions. */
export function ReviewDetail({ pkg }: { pkg: HeldPackage }) {
  return (
    <Box flexDirection="column">
      <Text bold>
        {pkg.name}@{pkg.version}
      </Text>
      <Text color="gray">integrity {pkg.integrity}</Text>
      {pkg.ruleSetVersion ? <Text color="gray">rule set {pkg.ruleSetVersion}</Text> : null}
      {pkg.reason ? <Text>held: {pkg.reason}</Text> : null}
      <Box flexDirection="column" marginTop={1}>
        <Text bold>findings ({pkg.findings.length})</Text>
        {pkg.findings.length === 0 ? <Text color="gray">none recorded</Text> : null}
        {pkg.findings.map((finding, index) => (
          <Box key={`${finding.rule}-${index}`} flexDirection="column">
            <Text>
              <Text color={severityColor(finding.severity)}>[{finding.severity}]</Text> {finding.rule}:{' '}
              {finding.message}
            </Text>
            {finding.evidence.slice(0, 5).map((evidence, i) => (
              <Text key={i} color="gray">
                {'    '}
                {describeEvidence(evidence)}
              </Text>
            ))}
            {finding.evidence.length > 5 ? (
              <Text color="gray">
                {'    '}… {finding.evidence.length - 5} more
              </Text>
            ) : null}
          </Box>
        ))}
      </Box>
      {pkg.decisions.length > 0 ? (
        <Box flexDirection="column" marginTop={1}>
          <Text bold>earlier decisions</Text>
          {pkg.decisions.map((decision) => (
            <Text key={decision.id}>
              {decision.createdAt} {decision.reviewer} ({decision.role}) {decision.decision}:{' '}
              {clip(decision.reason, 120)}
            </Text>
          ))}
        </Box>
      ) : null}
    </Box>
  );
}
