/**
 * Whether a package version can be installed through the vetted registry with its dependencies:
 * the tree npm would install (resolved from upstream's packuments, as the install phase does), each
 * node looked up in the verdict store. A refused dependency blocks its dependents; the answer names
 * it, its reason and the path to it.
 */
import { formatPackageVersion } from '@secure-registry/shared';
import { resolveTree } from '../pipeline/dependency-tree.js';
import type { TreeNode } from '../pipeline/dependency-tree.js';
import { upstreamIntegrity } from '../pipeline/integrity.js';
import type { ArtifactRecord, Store } from '../storage/store.js';
import type { Packument } from '../upstream/registry-client.js';

const MAX_PACKAGES = 1000;

export interface BlockingDependency {
  name: string;
  version: string;
  verdict: 'rejected' | 'review';
  reason: string | undefined;
  /** From the checked package to the blocking dependency: `a@1.0.0 > b@2.0.0 > c@3.0.0`. */
  path: string[];
}

export interface DependencyCheck {
  /** The first refused dependency in npm's placement order, when any. */
  blockedBy: BlockingDependency | undefined;
  /** Dependencies never analysed (or still being analysed): `name@version` with their integrity. */
  unvetted: { name: string; version: string; integrity: string | undefined; resolved: string | undefined }[];
  /** Dependencies that could not be resolved (they would fail `npm install` too). */
  issues: string[];
  /** How many dependencies npm would install with it. */
  dependencies: number;
}

/** The chain of dependents from the root to `target` over the resolved edges (breadth first). */
function pathTo(root: string, target: string, edges: readonly { from: string; to: string }[]): string[] {
  const previous = new Map<string, string>([[root, root]]);
  const queue = [root];
  for (let at = queue.shift(); at !== undefined; at = queue.shift()) {
    if (at === target) break;
    for (const edge of edges) {
      if (edge.from !== at || previous.has(edge.to)) continue;
      previous.set(edge.to, at);
      queue.push(edge.to);
    }
  }
  if (!previous.has(target)) return [target];
  const path = [target];
  while (path[0] !== root) path.unshift(previous.get(path[0]!)!);
  return path;
}

export async function checkDependencies(input: {
  name: string;
  version: string;
  manifest: Record<string, unknown>;
  store: Pick<Store, 'getArtifact'>;
  getPackument(name: string): Promise<Packument>;
  signal?: AbortSignal;
}): Promise<DependencyCheck> {
  const packuments = new Map<string, Promise<Packument>>();
  const tree = await resolveTree({
    root: { name: input.name, version: input.version, manifest: input.manifest },
    getPackument: (name) => {
      let packument = packuments.get(name);
      if (!packument) {
        packument = input.getPackument(name);
        packuments.set(name, packument);
      }
      return packument;
    },
    signal: input.signal ?? new AbortController().signal,
    maxPackages: MAX_PACKAGES,
    maxUnpackedBytes: Number.POSITIVE_INFINITY,
  });
  const label = new Map<string, string>([
    [`node_modules/${input.name}`, formatPackageVersion(input.name, input.version)],
  ]);
  for (const node of tree.nodes) label.set(node.path, formatPackageVersion(node.packageName, node.version));

  const verdicts = await Promise.all(
    tree.nodes.map(async (node): Promise<[TreeNode, ArtifactRecord | undefined, string | undefined]> => {
      const integrity = upstreamIntegrity(node.manifest.dist);
      const record = integrity
        ? await input.store.getArtifact({ name: node.packageName, version: node.version, integrity })
        : undefined;
      return [node, record, integrity];
    }),
  );
  let blockedBy: BlockingDependency | undefined;
  const unvetted: DependencyCheck['unvetted'] = [];
  for (const [node, record, integrity] of verdicts) {
    // npm skips an optional dependency it cannot fetch: a refused one does not block.
    if (node.optional) continue;
    if (record?.verdict === 'rejected' || record?.verdict === 'review') {
      blockedBy ??= {
        name: node.packageName,
        version: node.version,
        verdict: record.verdict,
        reason: record.reason,
        path: pathTo(`node_modules/${input.name}`, node.path, tree.edges).map((p) => label.get(p) ?? p),
      };
    } else if (record?.verdict !== 'approved') {
      const tarball = node.manifest.dist?.tarball;
      unvetted.push({
        name: node.packageName,
        version: node.version,
        integrity,
        resolved: typeof tarball === 'string' ? tarball : undefined,
      });
    }
  }
  return { blockedBy, unvetted, issues: tree.issues, dependencies: tree.nodes.length };
}
