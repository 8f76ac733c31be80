import { z } from 'zod';

/** The phases of dynamic analysis. */
export const Phase = z.enum(['install', 'import', 'browser']);
export type Phase = z.infer<typeof Phase>;

const base = {
  /** Position in the raw trace; evidence refers to events by it. */
  seq: z.number().int().nonnegative(),
  /** Seconds since the epoch (or since trace start), as the tracer reported it. */
  ts: z.number().nonnegative(),
  pid: z.number().int(),
  ppid: z.number().int().optional(),
  /** `name@version` of the package this event is attributed to, when known. */
  package: z.string().optional(),
};

export const ProcessEvent = z.object({
  ...base,
  kind: z.literal('process'),
  path: z.string(),
  argv: z.array(z.string()),
  cwd: z.string().optional(),
  /** Selected environment entries the process started with (names only unless relevant). */
  env: z.record(z.string(), z.string()).optional(),
});
export const ExitEvent = z.object({
  ...base,
  kind: z.literal('exit'),
  code: z.number().int().optional(),
  signal: z.string().optional(),
});
export const FileOp = z.enum(['read', 'write', 'create', 'delete', 'rename', 'chmod', 'mkdir', 'exec']);
export type FileOp = z.infer<typeof FileOp>;
export const FileEvent = z.object({
  ...base,
  kind: z.literal('file'),
  op: FileOp,
  path: z.string(),
  /** For renames and links: the destination. */
  target: z.string().optional(),
  /** Writes: the open discarded the file's content (O_TRUNC) or it was truncate(2)d. */
  truncate: z.boolean().optional(),
});
export const DnsEvent = z.object({
  ...base,
  kind: z.literal('dns'),
  name: z.string(),
  qtype: z.string(),
});
export const ConnectEvent = z.object({
  ...base,
  kind: z.literal('connect'),
  protocol: z.enum(['tcp', 'udp', 'unix']),
  address: z.string(),
  port: z.number().int().min(0).max(65535).optional(),
  /** The DNS name that resolved to this address, when known. */
  host: z.string().optional(),
});
export const HttpEvent = z.object({
  ...base,
  kind: z.literal('http'),
  method: z.string(),
  host: z.string(),
  path: z.string(),
  tls: z.boolean(),
  headers: z.record(z.string(), z.string()),
  /** The first bytes of the body, as UTF-8 with invalid bytes replaced. */
  body: z.string(),
  bodySize: z.number().int().nonnegative(),
});
export const TcpDataEvent = z.object({
  ...base,
  kind: z.literal('tcp-data'),
  address: z.string(),
  port: z.number().int(),
  /** The first bytes a client sent on a non-HTTP connection. */
  data: z.string(),
});
export const TlsEvent = z.object({
  ...base,
  kind: z.literal('tls'),
  sni: z.string(),
  /** False when the client refused the sandbox's certificate (the body could not be seen). */
  intercepted: z.boolean(),
});
export const DecoyEvent = z.object({
  ...base,
  kind: z.literal('decoy'),
  tool: z.string(),
  argv: z.array(z.string()),
});
export const BrowserEvent = z.object({
  ...base,
  kind: z.literal('browser'),
  api: z.enum(['fetch', 'XMLHttpRequest', 'WebSocket', 'ethereum', 'other']),
  action: z.enum(['wrapped', 'replaced', 'called']),
  detail: z.string(),
});

export const TraceEvent = z.discriminatedUnion('kind', [
  ProcessEvent,
  ExitEvent,
  FileEvent,
  DnsEvent,
  ConnectEvent,
  HttpEvent,
  TcpDataEvent,
  TlsEvent,
  DecoyEvent,
  BrowserEvent,
]);
export type TraceEvent = z.infer<typeof TraceEvent>;
export type TraceEventKind = TraceEvent['kind'];
export type TraceEventOf<K extends TraceEventKind> = Extract<TraceEvent, { kind: K }>;
