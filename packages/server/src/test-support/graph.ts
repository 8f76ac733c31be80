import type { DependencyGraph, DependencyNode } from '@secure-registry/shared';

export interface NodeSpec {
  name: string;
  version: string;
  integrity?: string | undefined;
  source?: DependencyNode['source'];
  /** Keys (package names here) this node depends on. */
  deps?: string[];
  resolved?: string;
}

/** A flat graph: every node keyed `node_modules/<name>`, root depends on `roots` (default: all). */
export function makeGraph(specs: NodeSpec[], roots?: string[]): DependencyGraph {
  const key = (name: string): string => `node_modules/${name}`;
  const nodes: DependencyNode[] = specs.map((spec) => ({
    key: key(spec.name),
    name: spec.name,
    version: spec.version,
    ...(spec.integrity !== undefined ? { integrity: spec.integrity } : {}),
    ...(spec.resolved !== undefined ? { resolved: spec.resolved } : {}),
    source: spec.source ?? 'registry',
    dev: false,
    optional: false,
    peer: false,
    hasInstallScript: false,
  }));
  const edges = [
    ...(roots ?? specs.map((spec) => spec.name)).map((name) => ({
      from: '',
      to: key(name),
      type: 'prod' as const,
    })),
    ...specs.flatMap((spec) =>
      (spec.deps ?? []).map((dep) => ({ from: key(spec.name), to: key(dep), type: 'prod' as const })),
    ),
  ];
  return { root: { name: 'app', version: '1.0.0' }, nodes, edges };
}
