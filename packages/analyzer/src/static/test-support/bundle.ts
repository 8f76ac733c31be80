/** A deterministic ~3 MB minified bundle: long lines, short identifiers, ordinary escapes. */
export function minifiedBundle(bytes = 3 * 1024 * 1024): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const chunk = `var a${i.toString(36)}=function(e,t){return e&&t?e.map(function(n){return n*${i}+t}):"s${i}\\u00e9\\x1b[31m"},b${i.toString(36)}=/[\\x00-\\x1f]/g;`;
    parts.push(chunk);
    size += chunk.length;
    if (i % 400 === 399) parts.push('\n');
  }
  return parts.join('');
}
