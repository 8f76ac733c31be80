// Minimal typings for the parts of @npmcli/arborist this CLI uses (the package ships no types).
declare module '@npmcli/arborist' {
  export interface ArboristEdge {
    readonly name: string;
    readonly type: 'prod' | 'dev' | 'optional' | 'peer' | 'peerOptional' | 'workspace';
    readonly to: ArboristNode | null;
  }
  export interface ArboristNode {
    readonly location: string;
    readonly name: string;
    readonly packageName: string;
    readonly version: string;
    readonly resolved: string | null;
    readonly integrity: string | null;
    readonly dev: boolean;
    readonly optional: boolean;
    readonly devOptional: boolean;
    readonly peer: boolean;
    readonly isLink: boolean;
    readonly isRoot: boolean;
    readonly inDepBundle: boolean;
    readonly hasInstallScript: boolean;
    readonly target: ArboristNode;
    readonly linksIn: Set<ArboristNode>;
    readonly edgesOut: Map<string, ArboristEdge>;
    readonly children: Map<string, ArboristNode>;
    readonly inventory: Map<string, ArboristNode>;
    getBundler(): ArboristNode | null;
  }
  export default class Arborist {
    constructor(options: { path: string; lockfileVersion?: number | null });
    loadVirtual(): Promise<ArboristNode>;
  }
}
