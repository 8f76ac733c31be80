import { z } from 'zod';
import { Phase } from './events.js';
import { Severity } from './verdict.js';

/** How sensitive a path touched by a package is. */
export const FileClass = z.enum([
  'honeytoken',
  'credentials',
  'wallet',
  'persistence',
  'ci-config',
  'other-package',
  'outside-package',
]);
export type FileClass = z.infer<typeof FileClass>;

export const RunStatus = z.enum(['completed', 'timeout', 'crashed', 'error']);
export type RunStatus = z.infer<typeof RunStatus>;

const evidenceRef = { seq: z.array(z.number().int()).default([]) };

/** The events of one artifact in one phase, reduced and with known runtime noise removed. */
export const BehaviourReport = z.object({
  phase: Phase,
  package: z.string(),
  status: RunStatus,
  /** Why the run did not complete, for statuses other than `completed`. */
  error: z.string().optional(),
  durationMs: z.number().nonnegative(),
  exitCode: z.number().int().optional(),
  /** Where the phase ran: HOME, the project and the package's directory (absent in older reports). */
  layout: z.object({ home: z.string(), projectDir: z.string(), packageDir: z.string() }).optional(),
  processes: z.array(
    z.object({
      pid: z.number().int(),
      argv: z.array(z.string()),
      cwd: z.string().optional(),
      ...evidenceRef,
    }),
  ),
  files: z.array(
    z.object({
      op: z.enum(['read', 'write', 'delete']),
      path: z.string(),
      class: FileClass,
      /** The path was a file of the machine before the phase (the sandbox planted it): its size in bytes. */
      existedBytes: z.number().int().nonnegative().optional(),
      /** Writes: the old content was discarded (O_TRUNC, truncate(2), or replaced by a rename). */
      truncated: z.boolean().optional(),
      /** Deletes: the package itself wrote this path earlier in the phase (its own scratch file). */
      ownScratch: z.boolean().optional(),
      /** Writes: the package read a file of this name from its own directory before (a copy of it). */
      copyOf: z.string().optional(),
      /** Writes: a directory was made (mkdir), not a file written. */
      directory: z.boolean().optional(),
      ...evidenceRef,
    }),
  ),
  dns: z.array(z.object({ name: z.string(), qtype: z.string(), ...evidenceRef })),
  connections: z.array(
    z.object({
      address: z.string(),
      port: z.number().int().optional(),
      host: z.string().optional(),
      ...evidenceRef,
    }),
  ),
  http: z.array(
    z.object({
      method: z.string(),
      host: z.string(),
      path: z.string(),
      tls: z.boolean(),
      bodySha256: z.string(),
      bodyExcerpt: z.string(),
      ...evidenceRef,
    }),
  ),
  /** Every place a honeytoken value appeared in egress (HTTP, DNS, raw TCP). */
  honeytokenHits: z.array(
    z.object({
      token: z.string(),
      channel: z.enum(['http', 'dns', 'tcp']),
      destination: z.string(),
      excerpt: z.string(),
      ...evidenceRef,
    }),
  ),
  decoys: z.array(z.object({ tool: z.string(), argv: z.array(z.string()), ...evidenceRef })),
  browser: z.array(z.object({ api: z.string(), action: z.string(), detail: z.string(), ...evidenceRef })),
  /**
   * Install phase: what outlived the lifecycle scripts — processes they left running (`alive`) and
   * what those did after the scripts exited (programs run, files touched, network). Absent in
   * reports made before it existed and when there is nothing to measure against.
   */
  lateActivity: z
    .array(
      z.object({
        /** 0 for network records of the sandbox's sinks (they do not see processes). */
        pid: z.number().int(),
        argv: z.array(z.string()),
        what: z.enum(['alive', 'exec', 'file', 'dns', 'connect', 'http', 'tcp']),
        detail: z.string(),
        /** Milliseconds after the last lifecycle script exited. */
        afterMs: z.number().nonnegative(),
        ...evidenceRef,
      }),
    )
    .optional(),
  /**
   * The runs this report joins (one phase under several variants: `developer, strict DNS`, `CI, names
   * answered`, …): every array above is their union. Absent for a single run.
   */
  variants: z.array(z.string()).optional(),
  /**
   * Findings (medium and above, from the other behaviour rules) that one environment variant's run raised
   * and the other's did not: the package behaves differently depending on where it thinks it runs.
   */
  differential: z
    .array(
      z.object({
        rule: z.string(),
        severity: Severity,
        message: z.string(),
        onlyIn: z.string(),
        notIn: z.string(),
        ...evidenceRef,
      }),
    )
    .optional(),
});
export type BehaviourReport = z.infer<typeof BehaviourReport>;
