// The parts of npm's own libraries the analyzer and its tests call (they ship no types).

declare module '@npmcli/package-json' {
  export default class PackageJson {
    /** Reads `<dir>/package.json` and normalises it as pacote does (bins, scripts, …). */
    static normalize(dir: string): Promise<{ content: Record<string, unknown> }>;
  }
}

declare module 'pacote' {
  export class FileFetcher {
    constructor(spec: string, opts: Record<string, unknown>);
    /** The tarball's path. */
    resolved: string;
    /** Extracts the tarball into `dest` as npm does. */
    extract(dest: string): Promise<unknown>;
  }
  const pacote: {
    /** Fetches a package spec (e.g. `file:/path/pkg.tgz`) and extracts it into `dest` as npm does. */
    extract(spec: string, dest: string, opts?: Record<string, unknown>): Promise<unknown>;
    FileFetcher: typeof FileFetcher;
  };
  export default pacote;
}
