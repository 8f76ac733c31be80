export declare const MINIMUM_NODE: string;
export declare const UNSUPPORTED_NODE_EXIT: number;
export declare function nodeAtLeast(version: string, minimum?: string): boolean;
export declare function hasNodeSqlite(): boolean;
export declare function unsupportedNodeMessage(
  program: string,
  version?: string,
  sqlite?: boolean,
  execPath?: string,
): string | undefined;
export declare const SERVER_NODE_FLAGS: string[];
export declare function execWithNodeFlags(flags: string[]): void;
export declare function runBin(
  program: string,
  entry: URL,
  options?: { nodeFlags?: string[] },
): Promise<void>;
