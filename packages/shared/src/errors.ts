/** One base error with a stable `ERR_SR_*` code and an optional hint for the person who acts. */
export class SecureRegistryError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  constructor(code: `ERR_SR_${string}`, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** Something the user can fix: bad input, a missing file, a wrong flag. */
export class UserError extends SecureRegistryError {}

/** A failure of a remote party: the server, the upstream registry, the network. */
export class RemoteError extends SecureRegistryError {}

/** A defect in this program. */
export class BugError extends SecureRegistryError {}

const SECRET_PATTERNS: RegExp[] = [
  /(npm_[A-Za-z0-9]{20,})/g,
  /(gh[pousr]_[A-Za-z0-9]{20,})/g,
  /(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
  /(_authToken=)[^\s&]+/g,
  // Token-like query parameters of URLs.
  /([?&](?:[a-z_]*token|[a-z_]*auth[a-z_]*|password|passwd|secret|key|api[_-]?key)=)[^\s&#]+/gi,
  /(srt_[A-Za-z0-9_-]{8,})/g,
];

/** Replaces anything that looks like a token with `***`, keeping a prefix where it is a label. */
export function redact(text: string): string {
  let out = text;
  for (const pattern of SECRET_PATTERNS) {
    out = out.replace(pattern, (match, prefix: string) =>
      prefix && match.startsWith(prefix) && prefix.length < match.length ? `${prefix}***` : '***',
    );
  }
  // Credentials in URLs (user:password@): the host stays readable.
  return out.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi, '$1***@');
}
