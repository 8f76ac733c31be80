/**
 * JSON text as npm reads it: a leading byte order mark is dropped (npm's json-parse-even-better-errors
 * does the same), so a lockfile or package.json saved by an editor that writes one is accepted.
 */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
