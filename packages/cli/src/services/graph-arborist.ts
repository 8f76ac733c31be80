import type { ArboristNode } from '@npmcli/arborist';
import type { DependencyEdge, DependencyGraph, DependencyNode, EdgeType } from '@secure-registry/shared';
import { classifySource } from './source-kind.js';

/**
 * Converts an Arborist virtual tree into the shared dependency graph.
 *
 * - The project root is not a node; its dependencies are edges from `""`.
 * - A link is one node (source `link`) carrying its target's dependencies; link targets are not
 *   nodes of their own unless nothing links to them.
 * - Packages bundled inside another package's tarball are not nodes: they are vetted as part of
 *   the bundling package, whose node takes over their outgoing edges.
 */
export function graphFromArboristTree(root: ArboristNode, lockfileVersion?: number): DependencyGraph {
  const nodes: DependencyNode[] = [];
  const included = new Set<string>();
  for (const node of root.inventory.values()) {
    if (node.isRoot || node.inDepBundle || isLinkedTarget(node, root)) continue;
    const pkg = node.isLink ? node.target : node;
    nodes.push({
      key: node.location,
      name: pkg.packageName || node.name,
      version: pkg.version || '0.0.0',
      ...(node.resolved ? { resolved: node.resolved } : {}),
      ...(node.integrity && !node.isLink ? { integrity: node.integrity } : {}),
      source: classifySource({
        name: pkg.packageName || node.name,
        version: pkg.version,
        resolved: node.resolved,
        isLink: node.isLink,
      }),
      dev: node.dev,
      optional: node.optional,
      peer: node.peer,
      hasInstallScript: !node.isLink && node.hasInstallScript,
    });
    included.add(node.location);
  }

  const edges: DependencyEdge[] = [];
  const seen = new Set<string>();
  const addEdge = (from: string, to: ArboristNode, type: EdgeType): void => {
    if (!included.has(to.location) || from === to.location) return;
    const id = `${from}\0${to.location}\0${type}`;
    if (seen.has(id)) return;
    seen.add(id);
    edges.push({ from, to: to.location, type });
  };
  const rootEdges = [...root.edgesOut.values()].filter((edge) => edge.to);
  if (rootEdges.length > 0) {
    for (const edge of rootEdges) addEdge('', edge.to!, edge.type);
  } else {
    // No package.json next to the lockfile (common with lockfile v1): every top-level package
    // is then a direct dependency.
    for (const child of root.children.values()) {
      if (!child.inDepBundle) addEdge('', child, child.dev ? 'dev' : child.optional ? 'optional' : 'prod');
    }
  }
  for (const node of root.inventory.values()) {
    if (node.isRoot || isLinkedTarget(node, root)) continue;
    const from = owningKey(node);
    if (from === undefined) continue;
    const source = node.isLink ? node.target : node;
    if (!source) continue;
    for (const edge of source.edgesOut.values()) if (edge.to) addEdge(from, edge.to, edge.type);
  }
  return {
    root: {
      ...(root.packageName ? { name: root.packageName } : {}),
      ...(root.version ? { version: root.version } : {}),
    },
    ...(lockfileVersion !== undefined ? { lockfileVersion } : {}),
    nodes,
    edges,
  };
}

function isLinkedTarget(node: ArboristNode, root: ArboristNode): boolean {
  if (node.isLink) return false;
  for (const link of node.linksIn) if (link !== root) return true;
  return false;
}

/** The graph node that speaks for this tree node: itself, or the package that bundles it. */
function owningKey(node: ArboristNode): string | undefined {
  if (!node.inDepBundle) return node.location;
  const bundler = node.getBundler();
  return bundler && !bundler.isRoot ? bundler.location : undefined;
}
