import type { DependencyEdge, DependencyGraph, DependencyNode, EdgeType } from '@secure-registry/shared';

/**
 * Collects nodes and edges for readers of lockfiles that do not record npm's flags (pnpm v9,
 * yarn): nodes are added once by key, edges once per (from, to, type).
 */
export class GraphBuilder {
  readonly nodes = new Map<string, DependencyNode>();
  readonly edges: DependencyEdge[] = [];
  private readonly seen = new Set<string>();

  addNode(node: DependencyNode): void {
    if (!this.nodes.has(node.key)) this.nodes.set(node.key, node);
  }

  addEdge(from: string, to: string, type: EdgeType): void {
    if (from === to) return;
    const id = `${from}\0${to}\0${type}`;
    if (this.seen.has(id)) return;
    this.seen.add(id);
    this.edges.push({ from, to, type });
  }

  /** The graph with npm's dev/optional flags derived from reachability (see `applyReachabilityFlags`). */
  build(root: DependencyGraph['root'], lockfileVersion?: number): DependencyGraph {
    const edges = this.edges.filter(
      (edge) => this.nodes.has(edge.to) && (edge.from === '' || this.nodes.has(edge.from)),
    );
    const graph: DependencyGraph = {
      root,
      ...(lockfileVersion !== undefined ? { lockfileVersion } : {}),
      nodes: [...this.nodes.values()],
      edges,
    };
    applyReachabilityFlags(graph);
    return graph;
  }
}

/**
 * Sets `dev` and `optional` the way npm's calcDepFlags does, from the edges alone: a node is dev
 * when no path from the root avoids a dev edge, optional when no path avoids an optional one.
 * A node no path reaches at all (a lockfile entry whose dependent the lockfile does not name)
 * becomes a direct dependency of the root, so nothing in the lockfile goes unscanned.
 */
export function applyReachabilityFlags(graph: DependencyGraph): void {
  const out = new Map<string, DependencyEdge[]>();
  for (const edge of graph.edges) {
    const list = out.get(edge.from);
    if (list) list.push(edge);
    else out.set(edge.from, [edge]);
  }
  const reach = (skip: ReadonlySet<EdgeType>): Set<string> => {
    const seen = new Set<string>();
    const queue = [''];
    for (let i = 0; i < queue.length; i++) {
      for (const edge of out.get(queue[i]!) ?? []) {
        if (skip.has(edge.type) || seen.has(edge.to)) continue;
        seen.add(edge.to);
        queue.push(edge.to);
      }
    }
    return seen;
  };
  const anyPath = reach(new Set());
  for (const node of graph.nodes) {
    if (anyPath.has(node.key)) continue;
    const edge: DependencyEdge = { from: '', to: node.key, type: 'prod' };
    graph.edges.push(edge);
    out.set('', [...(out.get('') ?? []), edge]);
  }
  const nonDev = reach(new Set<EdgeType>(['dev']));
  const required = reach(new Set<EdgeType>(['optional', 'peerOptional']));
  for (const node of graph.nodes) {
    node.dev = !nonDev.has(node.key);
    node.optional = !required.has(node.key);
  }
}
