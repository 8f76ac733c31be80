/** Whether `path` is `dir` or inside it (plain string logic on absolute POSIX paths). */
export function isWithinPath(path: string, dir: string): boolean {
  const d = dir.replace(/\/+$/, '');
  return path === d || path.startsWith(`${d}/`);
}
