import { z } from 'zod';
import { inputText, npmNameProblem, semverVersionProblem } from './input-text.js';

/** Where a package in a lockfile comes from. Only `registry` sources can be vetted. */
export const SourceKind = z.enum(['registry', 'git', 'tarball', 'file', 'link']);
export type SourceKind = z.infer<typeof SourceKind>;

export const DependencyNode = z
  .object({
    /** Stable key within the graph: the lockfile location, e.g. `node_modules/a/node_modules/b`. */
    key: inputText(4096, 1),
    name: inputText(214, 1),
    version: inputText(256, 1),
    resolved: inputText(4096).optional(),
    integrity: inputText(1024).optional(),
    source: SourceKind,
    dev: z.boolean().default(false),
    optional: z.boolean().default(false),
    peer: z.boolean().default(false),
    hasInstallScript: z.boolean().default(false),
  })
  .superRefine((node, ctx) => {
    // Only registry nodes are fetched by name and version; git, tarball, file and link nodes
    // carry what their lockfile says (a workspace folder name, a commit, `0.0.0`).
    if (node.source !== 'registry') return;
    const nameProblem = npmNameProblem(node.name);
    if (nameProblem) ctx.addIssue({ code: 'custom', path: ['name'], message: nameProblem });
    const versionProblem = semverVersionProblem(node.version);
    if (versionProblem) ctx.addIssue({ code: 'custom', path: ['version'], message: versionProblem });
  });
export type DependencyNode = z.infer<typeof DependencyNode>;

export const EdgeType = z.enum(['prod', 'dev', 'optional', 'peer', 'peerOptional', 'workspace']);
export type EdgeType = z.infer<typeof EdgeType>;

export const DependencyEdge = z.object({
  /** Key of the dependent node, or `""` for the project root. */
  from: inputText(4096),
  to: inputText(4096, 1),
  type: EdgeType.default('prod'),
});
export type DependencyEdge = z.infer<typeof DependencyEdge>;

export const MAX_GRAPH_NODES = 100_000;

export const DependencyGraph = z.object({
  root: z.object({ name: inputText(214).optional(), version: inputText(256).optional() }),
  lockfileVersion: z.number().int().optional(),
  nodes: z.array(DependencyNode).max(MAX_GRAPH_NODES),
  edges: z.array(DependencyEdge).max(MAX_GRAPH_NODES * 20),
});
export type DependencyGraph = z.infer<typeof DependencyGraph>;

export const UNVETTABLE_REASONS: Record<Exclude<SourceKind, 'registry'>, string> = {
  git: 'installed from a git repository: its contents are not a published, immutable artifact',
  tarball: 'installed from a tarball URL outside the registry: it cannot be matched to a published version',
  file: 'installed from a local file: it is not a published artifact',
  link: 'a symlinked local package: it is not a published artifact',
};

/**
 * For every node key, the shortest path of keys from a root dependency (an edge from `""`) to
 * that node. Used to explain why a package is blocked.
 */
export function pathsFromRoot(graph: Pick<DependencyGraph, 'edges'>): Map<string, string[]> {
  const children = new Map<string, string[]>();
  for (const edge of graph.edges) {
    const list = children.get(edge.from);
    if (list) list.push(edge.to);
    else children.set(edge.from, [edge.to]);
  }
  const paths = new Map<string, string[]>();
  const queue: string[] = [];
  for (const top of children.get('') ?? []) {
    if (!paths.has(top)) {
      paths.set(top, [top]);
      queue.push(top);
    }
  }
  for (let i = 0; i < queue.length; i++) {
    const key = queue[i]!;
    const base = paths.get(key)!;
    for (const child of children.get(key) ?? []) {
      if (!paths.has(child)) {
        paths.set(child, [...base, child]);
        queue.push(child);
      }
    }
  }
  return paths;
}

/**
 * Nodes blocked by rejected nodes: every node that depends on a rejected one, transitively.
 * Returns, for each blocked key, the rejected key at the root of the cause and the dependency
 * path from the blocked node down to it.
 */
export function findBlocked(
  graph: Pick<DependencyGraph, 'edges'>,
  rejected: ReadonlySet<string>,
): Map<string, { rejected: string; path: string[] }> {
  const parents = new Map<string, string[]>();
  for (const edge of graph.edges) {
    if (edge.from === '') continue;
    const list = parents.get(edge.to);
    if (list) list.push(edge.from);
    else parents.set(edge.to, [edge.from]);
  }
  const blocked = new Map<string, { rejected: string; path: string[] }>();
  const queue: { key: string; rejected: string; path: string[] }[] = [];
  for (const key of rejected) queue.push({ key, rejected: key, path: [key] });
  for (let i = 0; i < queue.length; i++) {
    const item = queue[i]!;
    for (const parent of parents.get(item.key) ?? []) {
      if (rejected.has(parent) || blocked.has(parent)) continue;
      const entry = { rejected: item.rejected, path: [parent, ...item.path] };
      blocked.set(parent, entry);
      queue.push({ key: parent, ...entry });
    }
  }
  return blocked;
}
