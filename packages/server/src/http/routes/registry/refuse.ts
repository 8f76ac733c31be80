/**
 * Refusals as every client prints them. npm prints the JSON body's `error`; pnpm and yarn print
 * only the status line of a refused packument or tarball, so for them the reason goes into the
 * HTTP reason phrase too (`404 Not Found - no approved version of x: …`). npm would print it twice.
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The longest reason phrase sent (clients wrap it; proxies may cut very long status lines). */
const MAX_PHRASE = 800;

/** A reason phrase Node accepts: visible ASCII and spaces only. */
export function reasonPhrase(status: number, message: string): string {
  const standard = STATUS_CODES[status] ?? 'Error';
  const text = message
    .replace(/[^\x20-\x7e]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const phrase = `${standard} - ${text}`;
  return phrase.length > MAX_PHRASE ? `${phrase.slice(0, MAX_PHRASE - 3)}...` : phrase;
}

function printsBody(request: FastifyRequest): boolean {
  return /^npm\//.test(request.headers['user-agent'] ?? '');
}

/**
 * pnpm prints neither the body nor the reason phrase of a 404 for a dependency's packument (only
 * for the package it was asked to add), and no `deprecated` text: what it does print is the URL of
 * a refused tarball.
 */
export function printsOnlyTarballUrls(request: FastifyRequest): boolean {
  return /^pnpm\//.test(request.headers['user-agent'] ?? '');
}

/** Sends a refusal (403/404) with `{ error, code }`, its reason in the status line for non-npm clients. */
export function sendRefusal(
  request: FastifyRequest,
  reply: FastifyReply,
  input: { status: 403 | 404; error: string; code: string },
): FastifyReply {
  if (!printsBody(request)) reply.raw.statusMessage = reasonPhrase(input.status, input.error);
  return reply
    .code(input.status)
    .header('cache-control', 'no-store')
    .send({ error: input.error, code: input.code });
}
