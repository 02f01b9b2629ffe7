import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';

/**
 * CORS for browser clients on other origins (`CORS_ORIGINS`). SignalR's browser client
 * sends credentials by default, so the exact origin is echoed, never `*`.
 */
export function cors(allowedOrigins: readonly string[]): RequestHandler {
  const apply = corsHeaders(allowedOrigins);
  return (req, res, next) => {
    if (!apply(req, res)) next();
  };
}

/**
 * The same on a bare node request and response: sets the headers for an allowed origin and
 * answers its preflight (204). Returns whether the request is answered.
 */
export function corsHeaders(allowedOrigins: readonly string[]): (req: IncomingMessage, res: ServerResponse) => boolean {
  const allowed = new Set(allowedOrigins);
  return (req, res) => {
    const origin = req.headers.origin;
    if (origin === undefined || !allowed.has(origin)) return false;
    addVaryOrigin(res);
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    if (req.method !== 'OPTIONS') return false;
    res.setHeader(
      'Access-Control-Allow-Headers',
      'authorization, content-type, x-requested-with, x-signalr-user-agent, last-event-id, traceparent, tracestate',
    );
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
    res.setHeader('Access-Control-Max-Age', '600');
    res.statusCode = 204;
    res.end();
    return true;
  };
}

/** What express's `res.vary('Origin')` does: add the field once. */
function addVaryOrigin(res: ServerResponse): void {
  const current = res.getHeader('Vary');
  const fields = current === undefined ? [] : String(current).split(',').map((field) => field.trim());
  if (fields.includes('*') || fields.some((field) => field.toLowerCase() === 'origin')) return;
  res.setHeader('Vary', [...fields.filter((field) => field !== ''), 'Origin'].join(', '));
}
