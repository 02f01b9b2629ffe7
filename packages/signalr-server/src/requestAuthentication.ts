import type { IncomingMessage } from 'node:http';
import type { HubIdentity } from './hubDefinition.ts';
import type { HubAuthenticate } from './hubServerOptions.ts';
import { UNAUTHORIZED, type HttpRejection } from './httpResponses.ts';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * Authenticates one hub request from `Authorization: Bearer` (Node and .NET clients, and
 * every non-streaming browser request) or the `access_token` query parameter (browsers'
 * WebSocket and EventSource, which cannot set headers). The header wins when both are present.
 */
export async function authenticateRequest<TUser>(
  req: IncomingMessage,
  query: URLSearchParams,
  authenticate: HubAuthenticate<TUser>,
): Promise<HubIdentity<TUser> | HttpRejection> {
  const header = req.headers.authorization;
  const match = header === undefined ? null : BEARER.exec(header);
  const queryToken = query.get('access_token');
  let identity: HubIdentity<TUser> | null;
  try {
    if (match !== null) identity = await authenticate(match[1]!, 'header');
    else if (queryToken !== null && queryToken !== '') identity = await authenticate(queryToken, 'query');
    else return UNAUTHORIZED;
  } catch {
    return { status: 503, text: 'Authentication is unavailable; retry later.' };
  }
  return identity ?? UNAUTHORIZED;
}

export function isRejection(value: object): value is HttpRejection {
  return 'status' in value;
}
