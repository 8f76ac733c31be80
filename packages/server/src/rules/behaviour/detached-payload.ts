import type { BehaviourReport, Evidence } from '@secure-registry/shared';
import type { Rule, RuleHit } from '../types.js';
import { argvText, egressOf, eventEvidence, isRegistryHost, MAX_EVIDENCE, type Egress } from './helpers.js';

type LateEntry = NonNullable<BehaviourReport['lateActivity']>[number];

/** Egress made by what outlived the scripts: the report's egress whose events are late ones. */
function lateEgress(report: BehaviourReport, late: readonly LateEntry[]): Egress[] {
  const seqs = new Set(late.flatMap((entry) => entry.seq));
  return egressOf(report).filter((egress) => egress.seq.some((seq) => seqs.has(seq)));
}

function describeEntry(entry: LateEntry): string {
  const who = entry.pid === 0 ? 'network' : `pid ${entry.pid} ${argvText(entry.argv).slice(0, 120)}`;
  return `${who}: ${entry.what} ${entry.detail} (+${entry.afterMs} ms)`;
}

/**
 * A payload that outlives the install script (THREATS: "delayed or detached execution, so that the
 * payload outlives the install script"): npm waits for the lifecycle script, so a process the script
 * leaves running — detached, double-forked, backgrounded with `&` — escapes whoever watched it.
 * Lifecycle scripts of benign packages (native builds, prebuilt downloads, banners) wait for their
 * children. `high` (held) for a process left running or acting after the script exited; `critical`
 * when it reaches the network afterwards (anything but the npm registry, which an update check may
 * contact).
 */
export const detachedPayload: Rule = {
  id: 'detached-payload',
  description: 'A process outlives the install script and acts after it exited',
  evaluate(ctx) {
    const hits: RuleHit[] = [];
    for (const report of ctx.behaviour) {
      const late = report.lateActivity ?? [];
      if (late.length === 0) continue;
      const egress = lateEgress(report, late);
      const hostile = egress.filter((e) => !isRegistryHost(e.host));
      const alive = late.filter((entry) => entry.what === 'alive');
      const cited = new Set(hostile.flatMap((e) => e.seq));
      // Late acts the egress evidence does not already show.
      const acts = late.filter((entry) => entry.what !== 'alive' && !entry.seq.some((seq) => cited.has(seq)));
      const evidence: Evidence[] = [
        ...hostile.map((e) =>
          eventEvidence(report, e, { excerpt: e.excerpt, detail: `late ${e.channel} egress` }),
        ),
        ...acts.map((entry) =>
          eventEvidence(report, entry, { excerpt: describeEntry(entry), detail: 'after the scripts exited' }),
        ),
        ...alive.map((entry) =>
          eventEvidence(report, entry, { excerpt: describeEntry(entry), detail: 'outlived the scripts' }),
        ),
      ];
      const pids = new Set(late.filter((entry) => entry.pid !== 0).map((entry) => entry.pid)).size || 1;
      const longest = Math.max(0, ...late.map((entry) => entry.afterMs));
      const first = hostile[0];
      hits.push({
        rule: this.id,
        severity: hostile.length > 0 ? 'critical' : 'high',
        message: first
          ? `${report.phase}: a process left running by the install script reaches ${first.label.slice(0, 120)} after the script exited`
          : `${report.phase}: ${pids} process${pids === 1 ? '' : 'es'} left running by the install script, active up to ${longest} ms after it exited`,
        evidence: evidence.slice(0, MAX_EVIDENCE),
      });
    }
    return hits;
  },
};
