// What the server holds for runs in flight on remote runners: each analysis's artifact behind a
// short-lived signed download URL, and the per-analysis key the runner signs its result with (HMAC-SHA256
// of the body). The key travels with the artifact download (header `x-result-key`), never as a workflow
// input, so it is not in the run's logs or inputs; a result for an unknown analysis, past its deadline or
// with a wrong signature is refused. ./routes.ts serves both ends over HTTP.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { integrityOf } from './bundle.js';

export const RESULT_KEY_HEADER = 'x-result-key';
export const SIGNATURE_HEADER = 'x-signature';

export function signBody(key: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

interface Pending {
  bytes: Buffer;
  key: string;
  expiresAt: number;
  deliver: (body: Buffer) => void;
  /** A result was accepted: a second one (a replayed or racing upload) is refused. */
  delivered: boolean;
}

export interface Offer {
  id: string;
  url: string;
  integrity: string;
  /** Resolves with the verified result body; never rejects (the caller bounds the wait). */
  result: Promise<Buffer>;
}

export type IngestOutcome = 'accepted' | 'unknown' | 'expired' | 'bad-signature' | 'duplicate';

export class Transfer {
  readonly #secret = randomBytes(32);
  readonly #pending = new Map<string, Pending>();

  constructor(
    /** The server as a runner reaches it (SR_PUBLIC_URL). */
    public publicUrl: string,
    /** How long the download URL and the result route stay open for one analysis. */
    readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  #token(id: string, expiresAt: number): string {
    return createHmac('sha256', this.#secret).update(`${id}.${expiresAt}`).digest('base64url');
  }

  /** Opens an analysis for `ttlMs` (default the transfer's): its download URL and its result route. */
  offer(bytes: Buffer, ttlMs = this.ttlMs): Offer {
    const id = randomUUID();
    const expiresAt = this.now() + ttlMs;
    let deliver!: (body: Buffer) => void;
    const result = new Promise<Buffer>((resolve) => (deliver = resolve));
    this.#pending.set(id, {
      bytes,
      key: randomBytes(32).toString('hex'),
      expiresAt,
      deliver,
      delivered: false,
    });
    const url = new URL(
      `executor/artifacts/${id}`,
      this.publicUrl.endsWith('/') ? this.publicUrl : `${this.publicUrl}/`,
    );
    url.searchParams.set('expires', String(expiresAt));
    url.searchParams.set('token', this.#token(id, expiresAt));
    return { id, url: url.toString(), integrity: integrityOf(bytes), result };
  }

  /** The artifact and its result key when the token is the one issued and has not expired. */
  download(id: string, expires: string, token: string): { bytes: Buffer; key: string } | 'denied' {
    const pending = this.#pending.get(id);
    const expiresAt = Number(expires);
    if (!pending || !Number.isSafeInteger(expiresAt) || expiresAt !== pending.expiresAt) return 'denied';
    if (this.now() > expiresAt || !sameText(token, this.#token(id, expiresAt))) return 'denied';
    return { bytes: pending.bytes, key: pending.key };
  }

  /**
   * Whether a result for `id` could be accepted now, checked before its body is read: a caller
   * without an open analysis gets no buffering of up to the result limit.
   */
  accepting(id: string): Exclude<IngestOutcome, 'accepted' | 'bad-signature'> | 'open' {
    const pending = this.#pending.get(id);
    if (!pending) return 'unknown';
    if (this.now() > pending.expiresAt) return 'expired';
    if (pending.delivered) return 'duplicate';
    return 'open';
  }

  ingest(id: string, body: Buffer, signature: string): IngestOutcome {
    const state = this.accepting(id);
    if (state !== 'open') return state;
    const pending = this.#pending.get(id)!;
    if (!sameText(signature, signBody(pending.key, body))) return 'bad-signature';
    pending.delivered = true;
    pending.deliver(body);
    return 'accepted';
  }

  /** Forgets an analysis (done, failed or timed out): its URL and result route close. */
  release(id: string): void {
    this.#pending.delete(id);
  }
}
