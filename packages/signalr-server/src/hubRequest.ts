import type { IncomingMessage } from 'node:http';

/** A request to the hub: negotiate, or one of the connection's transport requests. */
export interface HubRequest {
  readonly negotiate: boolean;
  readonly query: URLSearchParams;
}

/**
 * Matches a request against the hub path. Express strips the mount path from `req.url` but
 * keeps `originalUrl`, so the hub works both mounted (`app.use('/hubs/status', …)`) and bare.
 * A trailing slash is tolerated (the client appends `negotiate` without a slash then).
 */
export function matchHubRequest(req: IncomingMessage, hubPath: string): HubRequest | null {
  const raw = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  let url: URL;
  try {
    url = new URL(raw, 'http://hub.invalid');
  } catch {
    return null;
  }
  const path = trimSlash(url.pathname);
  if (path === hubPath) return { negotiate: false, query: url.searchParams };
  if (path === `${hubPath}/negotiate`) return { negotiate: true, query: url.searchParams };
  return null;
}

export function normalizeHubPath(path: string): string {
  const trimmed = trimSlash(path.startsWith('/') ? path : `/${path}`);
  return trimmed === '' ? '/' : trimmed;
}

function trimSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** A query parameter looked up case-insensitively, as ASP.NET does. */
export function queryValue(query: URLSearchParams, name: string): string | null {
  const exact = query.get(name);
  if (exact !== null) return exact;
  const lower = name.toLowerCase();
  for (const [key, value] of query) if (key.toLowerCase() === lower) return value;
  return null;
}
