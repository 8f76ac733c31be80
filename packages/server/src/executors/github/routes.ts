// The two routes a remote runner calls: the signed, expiring artifact download and the result ingest
// (HMAC-SHA256 of the body with the analysis's key). Both answer 404 for anything not issued, so the
// routes reveal nothing about analyses to a caller without the URL.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { RESULT_KEY_HEADER, SIGNATURE_HEADER } from './transfer.js';
import type { IngestOutcome, Transfer } from './transfer.js';

const MAX_RESULT_BYTES = 256 * 1024 * 1024;

export function registerExecutorRoutes(app: FastifyInstance, transfer: Transfer): void {
  app.get<{ Params: { id: string }; Querystring: { expires?: string; token?: string } }>(
    '/executor/artifacts/:id',
    async (request, reply) => {
      const found = transfer.download(
        request.params.id,
        request.query.expires ?? '',
        request.query.token ?? '',
      );
      if (found === 'denied') return reply.code(404).send({ error: 'no such artifact, or the link expired' });
      return reply
        .header(RESULT_KEY_HEADER, found.key)
        .header('cache-control', 'no-store')
        .type('application/octet-stream')
        .send(found.bytes);
    },
  );

  app.register(async (scope) => {
    // The HMAC is over the exact bytes: no JSON parsing before the check.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: MAX_RESULT_BYTES },
      (_request, body, done) => done(null, body),
    );
    // Whether the analysis is open is known from the URL alone: refuse before reading any body.
    scope.addHook<{ Params: { id: string } }>('onRequest', async (request, reply) => {
      const state = transfer.accepting(request.params.id);
      if (state !== 'open') return refuse(reply, state);
    });
    scope.post<{ Params: { id: string } }>('/executor/results/:id', async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const signature = request.headers[SIGNATURE_HEADER];
      const outcome = transfer.ingest(
        request.params.id,
        body,
        typeof signature === 'string' ? signature : '',
      );
      if (outcome === 'accepted') return reply.code(204).send();
      return refuse(reply, outcome);
    });
  });
}

function refuse(reply: FastifyReply, outcome: Exclude<IngestOutcome, 'accepted'>): FastifyReply {
  if (outcome === 'bad-signature')
    return reply.code(401).send({ error: 'signature does not match the body' });
  if (outcome === 'duplicate')
    return reply.code(409).send({ error: 'a result for this analysis was already accepted' });
  return reply.code(404).send({ error: 'no such analysis, or its result window closed' });
}
