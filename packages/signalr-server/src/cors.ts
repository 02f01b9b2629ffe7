import type { IncomingMessage, ServerResponse } from 'node:http';

const ALLOWED_HEADERS = 'authorization, content-type, x-requested-with, x-signalr-user-agent';

/**
 * Adds CORS headers for an allowed browser origin. The client sends credentials by default
 * (`withCredentials`), so the exact origin is echoed with `Allow-Credentials`, never `*`.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, allowOrigin: (origin: string) => boolean): void {
  const origin = req.headers.origin;
  // An app-level CORS middleware may have added it already.
  if (!/\borigin\b/i.test(String(res.getHeader('Vary') ?? ''))) res.appendHeader('Vary', 'Origin');
  if (origin === undefined || !allowOrigin(origin)) return;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Allow-Credentials', 'true');
}

/** Answers a preflight. Requested headers are echoed so that clients' custom `headers` work too. */
export function answerPreflight(req: IncomingMessage, res: ServerResponse): void {
  res.statusCode = 204;
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS');
  res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] ?? ALLOWED_HEADERS);
  res.setHeader('Access-Control-Max-Age', '600');
  res.end();
}
