import express, { Router } from 'express';
import type { Authenticator } from '../../auth/authenticator.ts';
import { UnsupportedMediaTypeError } from '../../errors.ts';
import type { IngestStatus } from '../../ingest/ingestStatus.ts';
import { parseTraceContext } from '../../observability/traceContext.ts';
import { authenticate, principal } from '../auth/authenticate.ts';
import { isPlainUtf8, readJsonBody } from '../readJsonBody.ts';

/** Body limit of contract §3. */
export const INGEST_BODY_LIMIT = '1mb';
export const INGEST_BODY_LIMIT_BYTES = 1024 * 1024;

/** `POST /ingest/status`: publishers send one message or `{ messages: [...] }`. */
export function ingestRoutes(deps: { authenticator: Authenticator; ingest: IngestStatus }): Router {
  const router = Router();
  const fullParser = express.json({ limit: INGEST_BODY_LIMIT, strict: false });
  router.post(
    '/ingest/status',
    // Authenticate before reading the body, so anonymous callers cannot make us parse 1 MiB.
    authenticate(deps.authenticator, { role: 'publisher' }),
    (req, _res, next) => {
      if (!req.is('application/json')) throw new UnsupportedMediaTypeError('Send the body as application/json.');
      next();
    },
    async (req, res, next) => {
      // The common case (plain UTF-8) is read by the lean reader; express's parser takes the rest.
      if (isPlainUtf8(req)) {
        req.body = await readJsonBody(req, INGEST_BODY_LIMIT_BYTES);
        next();
      } else fullParser(req, res, next);
    },
    async (req, res) => {
      const results = await deps.ingest(req.body, {
        source: 'http',
        ingestedBy: principal(res).userId,
        trace: parseTraceContext(req.get('traceparent'), req.get('tracestate')),
      });
      res.status(202).json({ results });
    },
  );
  return router;
}
