// The fake internet's network namespace: only loopback, every address local, every TCP port DNAT-ed to
// the sink. No veth, no route out: no packet can leave. Run as root inside `unshare --net`.
import { DECOY_PORT } from './decoys.js';
import { SINK_TCP_PORT } from './sink-protocol.js';

export const DNS_PORT = 53;

export function netnsSetupScript(): string {
  const keep = `${SINK_TCP_PORT},${DECOY_PORT},${DNS_PORT}`;
  return [
    'set -e',
    'ip link set lo up',
    'ip route add local 0.0.0.0/0 dev lo',
    `iptables -w -t nat -A OUTPUT -p tcp -m multiport ! --dports ${keep} -j DNAT --to-destination :${SINK_TCP_PORT}`,
    // IPv6 is best effort: without it AAAA answers are unreachable and clients fall back to IPv4.
    `{ ip -6 route add local ::/0 dev lo && ip6tables -w -t nat -A OUTPUT -p tcp -m multiport ! --dports ${keep} -j DNAT --to-destination :${SINK_TCP_PORT}; } 2>/dev/null || true`,
    'exec "$@"',
  ].join('\n');
}
