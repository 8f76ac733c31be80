import { createHash } from 'node:crypto';
import type { BehaviourReport, Phase } from '@secure-registry/shared';

/** Builders of behaviour reports for rule tests (shapes as the reducer produces them). */

export const HOME = '/home/maria';
export const PROJECT = '/home/maria/projects/acme-dashboard';
export const PKG_DIR = `${PROJECT}/node_modules/demo`;

export function report(overrides: Partial<BehaviourReport> & { phase?: Phase } = {}): BehaviourReport {
  return {
    phase: 'install',
    package: 'demo@1.0.1',
    status: 'completed',
    durationMs: 1200,
    exitCode: 0,
    processes: [],
    files: [],
    dns: [],
    connections: [],
    http: [],
    honeytokenHits: [],
    decoys: [],
    browser: [],
    ...overrides,
  };
}

let seq = 100;
const next = (): number[] => [seq++];

export function proc(argv: string[], cwd = PKG_DIR): BehaviourReport['processes'][number] {
  return { pid: 1000 + seq, argv, cwd, seq: next() };
}

export function file(
  op: 'read' | 'write' | 'delete',
  path: string,
  cls: BehaviourReport['files'][number]['class'],
): BehaviourReport['files'][number] {
  return { op, path, class: cls, seq: next() };
}

export function dns(name: string, qtype = 'A'): BehaviourReport['dns'][number] {
  return { name, qtype, seq: next() };
}

export function conn(address: string, port: number, host?: string): BehaviourReport['connections'][number] {
  return { address, port, ...(host ? { host } : {}), seq: next() };
}

export function http(
  method: string,
  host: string,
  path: string,
  body = '',
  tls = true,
): BehaviourReport['http'][number] {
  return {
    method,
    host,
    path,
    tls,
    bodySha256: createHash('sha256').update(body).digest('hex'),
    bodyExcerpt: body.slice(0, 256),
    seq: next(),
  };
}

export function tokenHit(
  token: string,
  channel: 'http' | 'dns' | 'tcp',
  destination: string,
  excerpt: string,
  at?: number[],
): BehaviourReport['honeytokenHits'][number] {
  return { token, channel, destination, excerpt, seq: at ?? next() };
}

export function decoy(tool: string, argv: string[]): BehaviourReport['decoys'][number] {
  return { tool, argv, seq: next() };
}

export function browser(api: string, action: string, detail: string): BehaviourReport['browser'][number] {
  return { api, action, detail, seq: next() };
}

type Late = NonNullable<BehaviourReport['lateActivity']>[number];

/** A late-activity entry; pass `at` to share the seqs of the report entry it explains. */
export function late(
  what: Late['what'],
  detail: string,
  options: { pid?: number; argv?: string[]; afterMs?: number; at?: number[] } = {},
): Late {
  return {
    pid: options.pid ?? 4242,
    argv: options.argv ?? ['node', '-e', 'setTimeout(beacon, 1500)'],
    what,
    detail,
    afterMs: options.afterMs ?? 1500,
    seq: options.at ?? next(),
  };
}
