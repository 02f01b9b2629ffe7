import type { AzureSignalRConnection } from './connectionString.ts';

/**
 * The REST API version statuscast speaks: 2022-06-01 (`/api/hubs/…?api-version=2022-06-01`),
 * the version of the current SDK family, with user-group membership TTLs. Its user-group
 * route puts the user first (`users/{user}/groups/{group}`), unlike v1.
 */
export const REST_API_VERSION = '2022-06-01';

/** A URL to call and the `aud` its token must carry. */
export interface ServiceTarget {
  readonly url: string;
  readonly audience: string;
}

/**
 * Where a client connects and the audience of its token (protocol doc §11.3):
 * `<ClientEndpoint or Endpoint>/client/?hub=<hub>` and `<scheme>://<host of Endpoint>/client/?hub=<hub>`
 * (no port), the hub name in lower case.
 */
export function clientTarget(connection: AzureSignalRConnection, hub: string): ServiceTarget {
  const suffix = `/client/?hub=${encodeURIComponent(hub.toLowerCase())}`;
  return { url: `${connection.clientEndpoint}${suffix}`, audience: `${connection.audienceBase}${suffix}` };
}

/**
 * A REST route of API 2022-06-01 (protocol doc §11.5), as the SDK builds it: `segments` are the
 * path after `/api/hubs/<hub>`, each percent-encoded with `encodeURIComponent` (so
 * `job:job-42:user:auth0|alice` is sent as `job%3Ajob-42%3Auser%3Aauth0%7Calice`); action
 * segments such as `:send` are passed already literal through `actions`.
 * The audience is the same path and `?api-version=` on `<scheme>://<host of Endpoint>` (no
 * port); query parameters in `extraQuery` (such as `ttl`) go on the URL only, as the SDK adds them
 * after signing.
 */
export function restTarget(
  connection: AzureSignalRConnection,
  hub: string,
  path: readonly (string | { readonly action: string })[],
  extraQuery: Readonly<Record<string, string>> = {},
): ServiceTarget {
  const encoded = path.map((segment) => (typeof segment === 'string' ? encodeURIComponent(segment) : segment.action));
  const pathAndVersion = `/api/hubs/${encodeURIComponent(hub.toLowerCase())}/${encoded.join('/')}?api-version=${REST_API_VERSION}`;
  const extra = Object.entries(extraQuery)
    .map(([key, value]) => `&${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join('');
  return { url: `${connection.serverEndpoint}${pathAndVersion}${extra}`, audience: `${connection.audienceBase}${pathAndVersion}` };
}
