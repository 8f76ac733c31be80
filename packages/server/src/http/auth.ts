import { UserError } from '@secure-registry/shared';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '@secure-registry/shared';
import type { Store, TokenRecord } from '../storage/store.js';

export type AuthMode = 'none' | 'token';

export interface Principal {
  /** Token id, or `local` in tokenless local mode. */
  id: string;
  role: Role;
  /** The token's label, when it has one (shown as the reviewer of decisions). */
  label?: string | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

const TOKEN_PREFIX = 'srt_';

/** A new bearer token: `srt_` and 32 random bytes in base64url. */
export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Creates and stores a token; returns the plaintext (shown once) and its record. */
export async function issueToken(
  store: Store,
  options: { role: Role; label?: string | undefined },
): Promise<{ token: string; record: TokenRecord }> {
  const token = generateToken();
  const record = await store.createToken({
    id: randomUUID(),
    hash: hashToken(token),
    role: options.role,
    ...(options.label !== undefined ? { label: options.label } : {}),
  });
  return { token, record };
}

/** Addresses on which tokenless mode is allowed: the loopback interface only. */
export function isLoopbackHost(host: string): boolean {
  return host === '127.0.0.1' || host === '::1';
}

/** Host names a loopback-only server answers to: `localhost`, `127.0.0.1`, `[::1]`, any port. */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (host === undefined) return false;
  const match = /^(localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?$/i.exec(host.trim());
  return match !== null;
}

/**
 * Tokenless mode's `onRequest` hook: only requests naming a loopback host are answered. A web page
 * can make a browser send requests to 127.0.0.1 under its own host name (DNS rebinding); those
 * carry that name in `Host:` and are refused.
 */
export async function requireLoopbackHost(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (isLoopbackHostHeader(request.headers.host)) return;
  reply.header('connection', 'close');
  throw new UserError(
    'ERR_SR_HOST_NOT_LOOPBACK',
    'without authentication this server answers only requests to localhost, 127.0.0.1 or [::1]',
  );
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Returns a Fastify `onRequest` hook that authenticates the request and requires one of `roles`:
 * it runs before the body is read, so an unauthenticated body is never buffered or parsed.
 * Missing or unknown tokens are 401; a valid token with another role is 403.
 */
export function requireRole(options: { store: Store; mode: AuthMode }, roles: readonly Role[]) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (options.mode === 'none') {
      request.principal = { id: 'local', role: 'admin' };
      return;
    }
    // A refused request's body is never read: close the connection rather than drain it.
    if (request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined)
      reply.header('connection', 'close');
    const token = bearerToken(request);
    if (!token) {
      throw new UserError(
        'ERR_SR_UNAUTHORIZED',
        'authentication required: send Authorization: Bearer <token>',
        {
          hint: 'create a token with `secure-registry-server token create --role ci`',
        },
      );
    }
    const record = token.startsWith(TOKEN_PREFIX)
      ? await options.store.findTokenByHash(hashToken(token))
      : undefined;
    if (!record) throw new UserError('ERR_SR_INVALID_TOKEN', 'the token is not valid');
    if (!roles.includes(record.role)) {
      throw new UserError('ERR_SR_FORBIDDEN', `this action needs the role ${roles.join(' or ')}`);
    }
    reply.removeHeader('connection');
    request.principal = { id: record.id, role: record.role, label: record.label };
  };
}
