/** The part of @npmcli/map-workspaces (Arborist's workspace finder) the scan cache uses. */
declare module '@npmcli/map-workspaces' {
  /** Workspace name → absolute folder, as Arborist finds them for a root manifest. */
  function mapWorkspaces(options: {
    cwd: string;
    pkg: Record<string, unknown>;
  }): Promise<Map<string, string>>;
  export default mapWorkspaces;
}
