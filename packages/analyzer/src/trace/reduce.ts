// Reduction of one package's events in one phase into a behaviour report.
//
// - Attribution is the caller's: events whose `package` is another package are ignored, events
//   without `package` are kept (single-package runs need not attribute).
// - Noise is removed by the commented rules in noise.ts and the learned baseline; never by package name.
// - TraceHoneytoken hits are computed on ALL egress events of the package, before any noise filtering.
import { createHash } from 'node:crypto';
import type { BehaviourReport, Phase, RunStatus, TraceEvent, TraceEventOf } from '@secure-registry/shared';
import { BaselineIndex, identityTracker, reportOps, type Baseline } from './baseline.js';
import { classifyPath, type PathContext } from './file-class.js';
import { type ExistingFile, FileDetail, mergeAnnotations } from './file-detail.js';
import { lateActivityTracker } from './late-activity.js';
import {
  excerptAround,
  findHoneytokens,
  findHoneytokensInDnsName,
  type TraceHoneytoken,
} from './honeytoken-scan.js';
import {
  argvPattern,
  BUILD_TOOLS,
  COMPILER_INTERNALS,
  isKnownNoise,
  NOISE_UNIX_SOCKETS,
  pathPattern,
} from './noise.js';
import { basename } from './paths.js';

export interface ReduceInput {
  events: readonly TraceEvent[];
  phase: Phase;
  packageName: string;
  packageDir: string;
  home: string;
  projectDir: string;
  honeytokens: readonly TraceHoneytoken[];
  baseline?: Baseline;
  status: RunStatus;
  durationMs: number;
  exitCode?: number;
  error?: string;
  /** Addresses of the sandbox's DNS resolver: UDP/TCP port-53 connections to them are not listed. */
  resolvers?: readonly string[];
  /** Files the sandbox planted before the phase (HOME, the project): writes and deletes of them say so. */
  existingFiles?: readonly ExistingFile[];
}

const EXCERPT = 256;

/** Groups entries by key, accumulating evidence seqs. */
class Grouped<T extends { seq: number[] }> {
  private readonly map = new Map<string, T>();
  /** The entry of `key` after adding `seq`, and whether this call created it. */
  add(key: string, seq: number, make: () => Omit<T, 'seq'>): { entry: T; created: boolean } {
    const cur = this.map.get(key);
    if (cur) {
      if (!cur.seq.includes(seq)) cur.seq.push(seq);
      return { entry: cur, created: false };
    }
    const entry = { ...make(), seq: [seq] } as T;
    this.map.set(key, entry);
    return { entry, created: true };
  }
  values(): T[] {
    return [...this.map.values()];
  }
}

type R = BehaviourReport;

function isBuildNoise(
  e: TraceEventOf<'process'>,
  keyOf: Map<number, { key: string; ppid?: number }>,
): boolean {
  const exe = basename(e.argv[0] ?? e.path);
  if (COMPILER_INTERNALS.has(exe)) return true;
  if (!BUILD_TOOLS.has(exe)) return false;
  // Only under a node-gyp build: walk up the process tree.
  let p = e.ppid;
  for (let depth = 0; p !== undefined && depth < 16; depth++) {
    const parent = keyOf.get(p);
    if (!parent) return false;
    if (parent.key === 'node-gyp' || parent.key === 'npm rebuild' || parent.key === 'make') return true;
    p = parent.ppid;
  }
  return false;
}

export function reduceEvents(input: ReduceInput): BehaviourReport {
  const ctx: PathContext = {
    home: input.home,
    projectDir: input.projectDir,
    packageDir: input.packageDir,
    honeytokenPaths: input.honeytokens.flatMap((h) => (h.path ? [h.path] : [])),
  };
  const baseline = new BaselineIndex(input.baseline);
  const resolvers = new Set(input.resolvers ?? []);
  const events = input.events
    .filter((e) => e.package === undefined || e.package === input.packageName)
    .slice()
    .sort((a, b) => a.seq - b.seq);
  const identity = identityTracker(ctx);
  // Only what survives the noise filters below counts as late activity.
  const late = lateActivityTracker(events, input.phase);
  const procInfo = new Map<number, { key: string; ppid?: number }>();
  const fileDetail = new FileDetail(input.packageDir, input.existingFiles);

  const processes = new Grouped<R['processes'][number]>();
  const files = new Grouped<R['files'][number]>();
  const dns = new Grouped<R['dns'][number]>();
  const connections = new Grouped<R['connections'][number]>();
  const http = new Grouped<R['http'][number]>();
  const hits = new Grouped<R['honeytokenHits'][number]>();
  const decoys = new Grouped<R['decoys'][number]>();
  const browser = new Grouped<R['browser'][number]>();
  const hit = (
    channel: 'http' | 'dns' | 'tcp',
    destination: string,
    text: string,
    seq: number,
    dnsName = false,
  ): void => {
    const matches = dnsName
      ? findHoneytokensInDnsName(text, input.honeytokens)
      : findHoneytokens(text, input.honeytokens);
    for (const m of matches) {
      hits.add(`${m.token}\0${channel}\0${destination}`, seq, () => ({
        token: m.token,
        channel,
        destination,
        excerpt: excerptAround(text, m.index, m.encoding),
      }));
    }
  };

  for (const e of events) {
    const id = identity(e);
    switch (e.kind) {
      case 'process': {
        procInfo.set(e.pid, { key: id, ...(e.ppid !== undefined ? { ppid: e.ppid } : {}) });
        if (isBuildNoise(e, procInfo) || baseline.hasProcess(argvPattern(e.argv, ctx))) break;
        late?.note(e, 'exec', e.argv.join(' ').slice(0, 300));
        processes.add(JSON.stringify(e.argv), e.seq, () => ({
          pid: e.pid,
          argv: e.argv,
          ...(e.cwd ? { cwd: e.cwd } : {}),
        }));
        break;
      }
      case 'file':
        for (const { op, path } of reportOps(e)) {
          const pattern = pathPattern(path, ctx);
          if (isKnownNoise(id, pattern, op)) continue;
          const cls = classifyPath(path, op, ctx);
          if (cls === undefined || baseline.hasFile(id, pattern, op, cls)) continue;
          late?.note(e, 'file', `${op} ${path}`);
          const more = fileDetail.annotate(e, op, path);
          const { entry, created } = files.add(`${op}\0${path}`, e.seq, () => ({
            op,
            path,
            class: cls,
            ...more,
          }));
          if (!created) mergeAnnotations(entry, more);
        }
        fileDetail.note(e);
        break;
      case 'dns':
        hit('dns', e.name, e.name, e.seq, true);
        if (!baseline.hasDns(e.name)) {
          late?.note(e, 'dns', `${e.qtype} ${e.name}`);
          dns.add(`${e.name}\0${e.qtype}`, e.seq, () => ({ name: e.name, qtype: e.qtype }));
        }
        break;
      case 'connect': {
        if (e.protocol === 'unix' && NOISE_UNIX_SOCKETS.test(e.address)) break;
        if (e.port === 53 && resolvers.has(e.address)) break;
        late?.note(
          e,
          'connect',
          `${e.protocol} ${e.address}${e.port !== undefined ? `:${e.port}` : ''}${e.host ? ` (${e.host})` : ''}`,
        );
        connections.add(`${e.address}\0${e.port ?? ''}\0${e.host ?? ''}`, e.seq, () => ({
          address: e.address,
          ...(e.port !== undefined ? { port: e.port } : {}),
          ...(e.host ? { host: e.host } : {}),
        }));
        break;
      }
      case 'http': {
        const dest = `${e.host}${e.path.slice(0, 200)}`;
        hit('http', dest, `${e.method} ${e.path}`, e.seq);
        hit('http', dest, e.host, e.seq, true);
        hit(
          'http',
          dest,
          Object.entries(e.headers)
            .map(([k, v]) => `${k}: ${v}`)
            .join('\n'),
          e.seq,
        );
        hit('http', dest, e.body, e.seq);
        late?.note(e, 'http', `${e.method} ${e.tls ? 'https' : 'http'}://${e.host}${e.path}`);
        const bodySha256 = createHash('sha256').update(e.body, 'utf8').digest('hex');
        http.add(`${e.method}\0${e.host}\0${e.path}\0${bodySha256}`, e.seq, () => ({
          method: e.method,
          host: e.host,
          path: e.path,
          tls: e.tls,
          bodySha256,
          bodyExcerpt: e.body.slice(0, EXCERPT),
        }));
        break;
      }
      case 'tcp-data':
        late?.note(e, 'tcp', `${e.address}:${e.port} ${e.data.slice(0, 120)}`);
        hit('tcp', `${e.address}:${e.port}`, e.data, e.seq);
        break;
      case 'tls':
        hit('dns', e.sni, e.sni, e.seq, true); // a name exfiltrated in the SNI is a DNS-style channel
        break;
      case 'decoy':
        decoys.add(`${e.tool}\0${JSON.stringify(e.argv)}`, e.seq, () => ({ tool: e.tool, argv: e.argv }));
        break;
      case 'browser':
        browser.add(`${e.api}\0${e.action}\0${e.detail}`, e.seq, () => ({
          api: e.api,
          action: e.action,
          detail: e.detail,
        }));
        break;
      case 'exit':
        break;
    }
  }

  return {
    phase: input.phase,
    package: input.packageName,
    status: input.status,
    ...(input.error !== undefined ? { error: input.error } : {}),
    durationMs: input.durationMs,
    ...(input.exitCode !== undefined ? { exitCode: input.exitCode } : {}),
    layout: { home: input.home, projectDir: input.projectDir, packageDir: input.packageDir },
    processes: processes.values(),
    files: files.values(),
    dns: dns.values(),
    connections: connections.values(),
    http: http.values(),
    honeytokenHits: hits.values(),
    decoys: decoys.values(),
    browser: browser.values(),
    ...(late ? { lateActivity: late.entries() } : {}),
  };
}
