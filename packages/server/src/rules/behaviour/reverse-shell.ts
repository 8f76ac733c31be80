import type { Evidence } from '@secure-registry/shared';
import type { Rule, RuleHit } from '../types.js';
import { argvText, egressOf, eventEvidence, executable, firstSeq, SHELLS } from './helpers.js';

const DEV_TCP = /\/dev\/(tcp|udp)\/([^\s/]+)\/(\d+)/;

/**
 * A shell wired to the network: `bash -i >& /dev/tcp/host/port`, `nc -e sh`, `socat exec:sh`, or an
 * interactive shell started right after a raw TCP connection (its stdio is that socket). `critical`
 * with the connection and the shell as evidence.
 */
export const reverseShell: Rule = {
  id: 'reverse-shell',
  description: 'A shell whose input and output are a network connection',
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    for (const report of ctx.behaviour) {
      const raw = egressOf(report).filter((e) => e.channel === 'tcp');
      const evidence: Evidence[] = [];
      let target: string | undefined;
      for (const p of report.processes) {
        const line = argvText(p.argv);
        const exe = executable(p.argv);
        const devTcp = DEV_TCP.exec(p.argv.join(' '));
        const netcat =
          /^(nc|ncat|netcat|nc\.traditional|nc\.openbsd)$/.test(exe) &&
          p.argv.some((a, i) => i > 0 && /^-\w*[ec]\w*$/.test(a));
        const socat = exe === 'socat' && p.argv.some((a) => /^(exec|system):.*\b(ba|da|z)?sh\b/i.test(a));
        // An interactive shell that came right after a raw connection (no HTTP explains it).
        const interactive =
          SHELLS.has(exe) && p.argv.slice(1).some((a) => /^-\w*i\w*$/.test(a) && !a.includes('c'));
        const after = interactive ? raw.filter((e) => firstSeq(e) < firstSeq(p)) : [];
        if (!devTcp && !netcat && !socat && after.length === 0) continue;
        if (devTcp) target ??= `${devTcp[2]}:${devTcp[3]}`;
        if (after[0]) target ??= after[0].label;
        evidence.push(eventEvidence(report, p, { excerpt: line, detail: 'shell process' }));
      }
      if (evidence.length === 0) continue;
      for (const e of raw.slice(0, 2))
        evidence.push(eventEvidence(report, e, { excerpt: e.excerpt, detail: 'connection' }));
      hits.push({
        rule: this.id,
        severity: 'critical',
        message: `${report.phase}: reverse shell${target ? ` to ${target}` : ''}`,
        evidence: evidence.slice(0, 8),
      });
    }
    return hits;
  },
};
