import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RemoteError, redact, SecureRegistryError, UserError } from '@secure-registry/shared';
import type { ErrorBody } from '@secure-registry/shared';
import { isDiskFull } from '../storage/disk-space.js';

/**
 * The HTTP status of every domain error code, in one place: services and routes throw
 * `SecureRegistryError`s (`UserError`, `RemoteError`) with a code and never name a status.
 */
export const STATUS_BY_CODE: Readonly<Record<`ERR_SR_${string}`, number>> = {
  ERR_SR_BAD_REQUEST: 400,
  ERR_SR_INVALID_BODY: 400,
  ERR_SR_INVALID_PARAM: 400,
  ERR_SR_INVALID_NAME: 400,
  ERR_SR_INVALID_PATH: 400,
  ERR_SR_DUPLICATE_NODE: 400,
  ERR_SR_BAD_LAST_EVENT_ID: 400,
  ERR_SR_UNAUTHORIZED: 401,
  ERR_SR_INVALID_TOKEN: 401,
  ERR_SR_FORBIDDEN: 403,
  ERR_SR_HOST_NOT_LOOPBACK: 403,
  ERR_SR_NOT_FOUND: 404,
  ERR_SR_SCAN_NOT_FOUND: 404,
  ERR_SR_PACKAGE_NOT_FOUND: 404,
  ERR_SR_FILE_NOT_FOUND: 404,
  ERR_SR_NOT_ANALYSED: 409,
  ERR_SR_NOT_STORED: 409,
  ERR_SR_AMBIGUOUS_ARTIFACT: 409,
  ERR_SR_BODY_TOO_LARGE: 413,
  ERR_SR_FILE_TOO_LARGE: 413,
  ERR_SR_UNSUPPORTED_MEDIA_TYPE: 415,
  ERR_SR_BINARY_FILE: 415,
  ERR_SR_NO_INTEGRITY: 422,
  ERR_SR_INTEGRITY: 502,
  ERR_SR_ARTIFACT_MISSING: 404,
  ERR_SR_ARTIFACT_TAMPERED: 502,
  ERR_SR_ARTIFACT_STORE_NO_BUCKET: 503,
  ERR_SR_ARTIFACT_STORE_AUTH: 503,
  ERR_SR_ARTIFACT_STORE_UNREACHABLE: 503,
  ERR_SR_ARTIFACT_STORE_FAILED: 503,
};

/** A code without an entry: what its class says (the user's input, a remote party, a bug). */
function statusOf(error: SecureRegistryError): number {
  const status = STATUS_BY_CODE[error.code as `ERR_SR_${string}`];
  if (status !== undefined) return status;
  if (error instanceof UserError) return 400;
  if (error instanceof RemoteError) return 502;
  return 500;
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
  if (error instanceof SecureRegistryError) {
    const statusCode = statusOf(error);
    // A defect's words are for the log, not for the client.
    if (statusCode >= 500 && !(error instanceof RemoteError))
      return { statusCode, body: { error: 'internal server error', code: 'ERR_SR_INTERNAL' } };
    return {
      statusCode,
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
  // Not a defect: the database or the artifact store could not write (issue 13 item 9).
  if (isDiskFull(error)) {
    return {
      statusCode: 503,
      body: { error: 'the server has no disk space left; try again later', code: 'ERR_SR_DISK_FULL' },
    };
  }
  return { statusCode: 500, body: { error: 'internal server error', code: 'ERR_SR_INTERNAL' } };
}

function withHint(body: ErrorBody, hint: string | undefined): ErrorBody {
  return hint ? { ...body, hint: redact(hint) } : body;
}

/** Installs the one error handler and the JSON 404 handler; disk-full failures are told to `onDiskFull`. */
export function registerErrorHandlers(
  app: FastifyInstance,
  onDiskFull: (error: unknown) => void = () => undefined,
): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { statusCode, body } = toErrorResponse(error);
    if (body.code === 'ERR_SR_DISK_FULL') onDiskFull(error);
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
