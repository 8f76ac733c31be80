// What a reported write or delete did to the file, from the order of a phase's events: whether the
// file was there before (planted by the sandbox), whether its content was discarded, whether a
// delete removed the package's own scratch file, whether a write copies one of the package's own
// files. Pure: events in, annotations out.
import type { BehaviourReport, TraceEventOf } from '@secure-registry/shared';
import type { ReportOp } from './file-class.js';
import { basename, isWithin } from './paths.js';

type FileEntry = BehaviourReport['files'][number];
export type FileAnnotations = Pick<
  FileEntry,
  'existedBytes' | 'truncated' | 'ownScratch' | 'copyOf' | 'directory'
>;

/** A file present before the phase, as the sandbox planted it. */
export interface ExistingFile {
  path: string;
  size: number;
}

export class FileDetail {
  private readonly existing: Map<string, number>;
  /** Paths the package wrote during the phase (before the event being looked at). */
  private readonly written = new Set<string>();
  /** Base names of files the package read from its own directory, to the first such path. */
  private readonly ownReads = new Map<string, string>();

  constructor(
    private readonly packageDir: string,
    existing: readonly ExistingFile[] = [],
  ) {
    this.existing = new Map(existing.map((f) => [f.path, f.size]));
  }

  /** Records what an event tells about later ones; call after annotating its report ops. */
  note(e: TraceEventOf<'file'>): void {
    if (e.op === 'read') {
      if (isWithin(e.path, this.packageDir) && !this.ownReads.has(basename(e.path)))
        this.ownReads.set(basename(e.path), e.path);
    } else if (e.op === 'rename') {
      if (e.target) this.written.add(e.target);
    } else if (e.op !== 'delete' && e.op !== 'exec') this.written.add(e.path);
  }

  /** The annotations of one report op of `e` (a rename is a delete of its source and a write of its target). */
  annotate(e: TraceEventOf<'file'>, op: ReportOp, path: string): FileAnnotations {
    if (op === 'read') return {};
    const existed = this.existing.get(path);
    const out: FileAnnotations = existed !== undefined ? { existedBytes: existed } : {};
    if (op === 'delete') {
      if (existed === undefined && this.written.has(path)) out.ownScratch = true;
      return out;
    }
    if (e.op === 'mkdir') return { ...out, directory: true };
    if (e.truncate === true || e.op === 'rename') out.truncated = true;
    const source = this.ownReads.get(basename(path));
    if (source !== undefined && !isWithin(path, this.packageDir)) out.copyOf = source;
    return out;
  }
}

/** Merges the annotations of a further event on the same report entry (flags accumulate). */
export function mergeAnnotations(entry: FileEntry, more: FileAnnotations): void {
  if (more.existedBytes !== undefined) entry.existedBytes = more.existedBytes;
  if (more.truncated) entry.truncated = true;
  if (more.ownScratch === undefined) delete entry.ownScratch;
  if (more.copyOf !== undefined && entry.copyOf === undefined) entry.copyOf = more.copyOf;
  if (more.directory === undefined) delete entry.directory;
}
