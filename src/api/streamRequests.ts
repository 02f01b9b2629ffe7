import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { Logger } from 'pino';
import { ForbiddenError } from '../errors.ts';
import { corsHeaders } from './cors.ts';
import { DEV_HOST_REFUSAL } from './devHostCheck.ts';
import { failBareRequest } from './problemDetails.ts';
import { logRequestWhenDone } from './requestLog.ts';
import { type EventStreamDeps, serveFeedEvents, serveJobEvents } from './routes/events.ts';

export interface StreamRequestsOptions {
  readonly logger: Logger;
  readonly corsOrigins: readonly string[];
  /** The dev-mode Host check; absent outside dev mode. */
  readonly hostAllowed?: (req: IncomingMessage) => boolean;
  readonly events: EventStreamDeps;
  /** The hub's HTTP requests (negotiate, SSE, polls, sends): everything under `path`. */
  readonly hub: { readonly path: string; handleRequest(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void };
  /** Every other request: the express app. */
  readonly fallback: (req: IncomingMessage, res: ServerResponse) => void;
}

type Route = { readonly kind: 'job'; readonly jobId: string } | { readonly kind: 'feed' } | { readonly kind: 'hub' };

/**
 * Serves the long-lived requests — `GET /jobs/{id}/events`, `GET /events` and the hub's
 * requests — on the bare node request, before express, and passes every other request to
 * it. An idle stream then keeps none of what express hangs on a request (`req.next`, the
 * router's closures, `res.locals`, the parsed URL), and a connection costs that much less.
 * What express did before these routes is done here the same way: CORS, the dev-mode Host
 * guard, problem+json for what is refused; authentication stays per connection (the routes).
 */
export function streamRequests(options: StreamRequestsOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { logger, hostAllowed, events, hub, fallback } = options;
  const cors = corsHeaders(options.corsOrigins);

  const fail = (req: IncomingMessage, res: ServerResponse, error: unknown) => failBareRequest(logger, req, res, pathOf(req.url ?? '/'), error);

  return (req, res) => {
    const url = req.url ?? '/';
    const route = matchRoute(req.method, pathOf(url), hub.path);
    if (route === null) return fallback(req, res);
    // Only when it would be written: the listener would otherwise stay with every idle stream.
    if (logger.isLevelEnabled('debug')) logRequestWhenDone(logger, req, res, pathOf(url));
    if (cors(req, res)) return;
    if (hostAllowed && !hostAllowed(req)) return fail(req, res, new ForbiddenError(DEV_HOST_REFUSAL));
    if (route.kind === 'hub') {
      hub.handleRequest(req, res, (error) => (error === undefined ? fallback(req, res) : fail(req, res, error)));
      return;
    }
    const at = url.indexOf('?');
    const query = at < 0 ? {} : { ...parseQuery(url.slice(at + 1)) };
    const serving = route.kind === 'job' ? serveJobEvents(events, req, res, route.jobId, query) : serveFeedEvents(events, req, res, query);
    serving.catch((error: unknown) => fail(req, res, error));
  };
}

/** The exact spellings only; anything else (a trailing slash, HEAD, another case) is express's, as before. */
function matchRoute(method: string | undefined, path: string, hubPath: string): Route | null {
  if (path === hubPath || path.startsWith(`${hubPath}/`)) return { kind: 'hub' };
  if (method !== 'GET') return null;
  if (path === '/events') return { kind: 'feed' };
  if (!path.startsWith('/jobs/') || !path.endsWith('/events')) return null;
  const segment = path.slice('/jobs/'.length, -'/events'.length);
  if (segment === '' || segment.includes('/')) return null;
  try {
    return { kind: 'job', jobId: decodeURIComponent(segment) };
  } catch {
    return null; // express answers a malformed escape
  }
}

function pathOf(url: string): string {
  const at = url.indexOf('?');
  return at < 0 ? url : url.slice(0, at);
}
