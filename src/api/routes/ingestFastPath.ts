import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import type { Logger } from 'pino';
import type { Authenticator } from '../../auth/authenticator.ts';
import { hasRole } from '../../auth/principal.ts';
import { ForbiddenError, UnsupportedMediaTypeError } from '../../errors.ts';
import type { IngestStatus } from '../../ingest/ingestStatus.ts';
import { parseTraceContext } from '../../observability/traceContext.ts';
import { principalOf } from '../auth/authenticate.ts';
import { corsHeaders } from '../cors.ts';
import { DEV_HOST_REFUSAL } from '../devHostCheck.ts';
import { failBareRequest } from '../problemDetails.ts';
import { logRequestWhenDone } from '../requestLog.ts';
import { isPlainUtf8, readJsonBody } from '../readJsonBody.ts';
import { INGEST_BODY_LIMIT, INGEST_BODY_LIMIT_BYTES } from './ingest.ts';

export interface IngestFastPathOptions {
  readonly authenticator: Authenticator;
  readonly ingest: IngestStatus;
  readonly logger: Logger;
  readonly corsOrigins: readonly string[];
  /** Dev mode's Host check, when it applies. */
  readonly hostAllowed?: (req: IncomingMessage) => boolean;
}

/**
 * `POST /ingest/status` served straight from Node's HTTP server, in front of express. On
 * single-message ingest express's per-request layers (router matching through every
 * middleware, request/response decoration) cost more main-thread time than deciding and
 * appending the message. The answers are the express route's, step for step: the request log,
 * CORS headers for allowed origins, the dev-mode Host guard, the token verified and the
 * publisher role required before any byte of the body is read, 415 for anything but JSON, the
 * 1 MiB limit, problem+json naming the field. Returns false for every other request (and for
 * any spelling of the path but the exact one), which express then serves as before.
 */
export function ingestFastPath(options: IngestFastPathOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { authenticator, ingest, logger, hostAllowed } = options;
  // A POST is never a preflight: this only sets the headers for an allowed origin.
  const cors = corsHeaders(options.corsOrigins);
  const fullParser = express.json({ limit: INGEST_BODY_LIMIT, strict: false });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    cors(req, res);
    if (hostAllowed && !hostAllowed(req)) throw new ForbiddenError(DEV_HOST_REFUSAL);
    // No stream tokens here, so only the Authorization header is read (never the query).
    const principal = await principalOf({ headers: req.headers, query: {} }, authenticator, false);
    if (!hasRole(principal, 'publisher')) throw new ForbiddenError('This endpoint needs the "publisher" role.');
    if (!isJsonWithBody(req)) throw new UnsupportedMediaTypeError('Send the body as application/json.');
    const body = isPlainUtf8(req) ? await readJsonBody(req, INGEST_BODY_LIMIT_BYTES) : await parseFully(req, res);
    const results = await ingest(body, {
      source: 'http',
      ingestedBy: principal.userId,
      trace: parseTraceContext(header(req, 'traceparent'), header(req, 'tracestate')),
    });
    send(res, 202, 'application/json; charset=utf-8', JSON.stringify({ results }));
  }

  /** Gzip/deflate bodies and other charsets: express's parser, as the express route does. */
  function parseFully(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    return new Promise((resolve, reject) => {
      fullParser(req as express.Request, res as express.Response, (error?: unknown) => (error ? reject(error) : resolve((req as express.Request).body)));
    });
  }

  return (req, res) => {
    if (req.method !== 'POST' || !isIngestPath(req.url)) return false;
    logRequestWhenDone(logger, req, res, INGEST_PATH);
    serve(req, res).catch((error: unknown) => failBareRequest(logger, req, res, INGEST_PATH, error));
    return true;
  };
}

const INGEST_PATH = '/ingest/status';

function isIngestPath(url: string | undefined): boolean {
  return url === INGEST_PATH || (url !== undefined && url.startsWith(`${INGEST_PATH}?`));
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Express's `req.is('application/json')`: a body is announced, and its media type is JSON. */
function isJsonWithBody(req: IncomingMessage): boolean {
  const hasBody = req.headers['transfer-encoding'] !== undefined || !Number.isNaN(Number.parseInt(req.headers['content-length'] ?? '', 10));
  if (!hasBody) return false;
  const type = req.headers['content-type']?.split(';', 1)[0]?.trim().toLowerCase();
  return type === 'application/json';
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
