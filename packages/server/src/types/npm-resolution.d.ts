// Minimal typings for the parts of npm's resolution libraries the server uses (they ship no types).
declare module 'npm-package-arg' {
  interface NpaResult {
    type: 'git' | 'tag' | 'version' | 'range' | 'file' | 'directory' | 'remote' | 'alias';
    registry: boolean | undefined;
    name: string | null;
    rawSpec: string;
    fetchSpec: string | null;
    subSpec?: NpaResult;
  }
  interface Npa {
    (arg: string, where?: string): NpaResult;
    resolve(name: string, spec: string, where?: string): NpaResult;
  }
  const npa: Npa;
  export default npa;
}

declare module 'npm-pick-manifest' {
  interface PickOptions {
    defaultTag?: string;
    nodeVersion?: string;
    npmVersion?: string | null;
    before?: Date | string | null;
  }
  /** The manifest `wanted` (a range, version or dist-tag) picks from a packument, as npm would. Throws ETARGET. */
  function pickManifest<T extends { version?: string }>(
    packument: { versions?: Record<string, T | undefined>; [key: string]: unknown },
    wanted: string,
    options?: PickOptions,
  ): T;
  export default pickManifest;
}

declare module 'npm-install-checks' {
  interface Target {
    engines?: unknown;
    os?: unknown;
    cpu?: unknown;
    libc?: unknown;
    [key: string]: unknown;
  }
  /** Throws EBADENGINE when `target.engines` excludes the given node / npm versions. */
  export function checkEngine(
    target: Target,
    npmVersion: string | null | undefined,
    nodeVersion: string | null | undefined,
    force?: boolean,
  ): void;
  /** Throws EBADPLATFORM when `target.os` / `cpu` / `libc` exclude this machine (or `environment`). */
  export function checkPlatform(
    target: Target,
    force?: boolean,
    environment?: { os?: string; cpu?: string; libc?: string },
  ): void;
}
