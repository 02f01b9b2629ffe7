import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { RequestHandler } from 'express';
import { ForbiddenError } from '../errors.ts';

/**
 * Dev mode mints tokens for whoever asks, trusting that only this machine can ask. A page
 * on another site can still reach a local instance through DNS rebinding (its own name,
 * re-pointed at 127.0.0.1); its requests then carry that name in `Host`. So in dev mode the
 * service answers only requests addressed to `localhost` (or `*.localhost`), an IP literal,
 * or the host of `PUBLIC_URL`. Returns whether `req` may be served.
 */
export function devModeHostCheck(publicUrl: string | undefined): (req: IncomingMessage) => boolean {
  const publicHost = publicUrl ? new URL(publicUrl).hostname.toLowerCase() : undefined;
  return (req) => {
    const host = hostName(req.headers.host);
    if (host === undefined) return false;
    return host === 'localhost' || host.endsWith('.localhost') || isIP(host) !== 0 || host === publicHost;
  };
}

export const DEV_HOST_REFUSAL = 'In dev mode this service answers only requests addressed to localhost, an IP address or PUBLIC_URL.';

/** The express side: a 403 problem document for a foreign `Host`. */
export function devModeHostGuard(allowed: (req: IncomingMessage) => boolean): RequestHandler {
  return (req, _res, next) => {
    if (!allowed(req)) throw new ForbiddenError(DEV_HOST_REFUSAL);
    next();
  };
}

/** `example.com:3000` → `example.com`, `[::1]:3000` → `::1`. */
function hostName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const text = header.trim().toLowerCase();
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    return end < 0 ? undefined : text.slice(1, end);
  }
  const colon = text.lastIndexOf(':');
  return colon < 0 ? text : text.slice(0, colon);
}
