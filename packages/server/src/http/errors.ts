import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SecureRegistryError, redact } from '@secure-registry/shared';
import type { ErrorBody } from '@secure-registry/shared';

/** An error with an HTTP status, thrown by route handlers. */
export class HttpError extends SecureRegistryError {
  readonly statusCode: number;
  constructor(
    statusCode: number,
    code: `ERR_SR_${string}`,
    message: string,
    options: { hint?: string } = {},
  ) {
    super(code, message, options);
    this.statusCode = statusCode;
  }
}

const FASTIFY_CODES: Record<number, `ERR_SR_${string}`> = {
  400: 'ERR_SR_BAD_REQUEST',
  401: 'ERR_SR_UNAUTHORIZED',
  403: 'ERR_SR_FORBIDDEN',
  404: 'ERR_SR_NOT_FOUND',
  413: 'ERR_SR_BODY_TOO_LARGE',
  415: 'ERR_SR_UNSUPPORTED_MEDIA_TYPE',
};

/** Maps any thrown value to a status and an npm-shaped `{ error, code }` body, tokens redacted. */
export function toErrorResponse(error: unknown): { statusCode: number; body: ErrorBody } {
  if (error instanceof HttpError) {
    return {
      statusCode: error.statusCode,
      body: withHint({ error: redact(error.message), code: error.code }, error.hint),
    };
  }
  if (error instanceof SecureRegistryError) {
    return {
      statusCode: 400,
      body: withHint({ error: redact(error.message), code: error.code }, error.hint),
    };
  }
  const fastifyError = error as Partial<FastifyError> | undefined;
  const status = fastifyError?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = FASTIFY_CODES[status] ?? (`ERR_SR_HTTP_${status}` as const);
    const message =
      status === 413 ? 'request body is too large' : redact(String(fastifyError?.message ?? 'bad request'));
    return { statusCode: status, body: { error: message, code } };
  }
  return { statusCode: 500, body: { error: 'internal server error', code: 'ERR_SR_INTERNAL' } };
}

function withHint(body: ErrorBody, hint: string | undefined): ErrorBody {
  return hint ? { ...body, hint: redact(hint) } : body;
}

/** Installs the one error handler and the JSON 404 handler. */
export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { statusCode, body } = toErrorResponse(error);
    if (statusCode >= 500) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      request.log.error({ err: redact(message) }, 'request failed');
    }
    return reply.status(statusCode).send(body);
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    return reply
      .status(404)
      .send({ error: `no route for ${request.method} ${request.url}`, code: 'ERR_SR_NOT_FOUND' });
  });
}
