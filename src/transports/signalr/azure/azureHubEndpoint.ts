import { decodeJwt } from 'jose';
import type { Logger } from 'pino';
import { UnavailableError } from '../../../errors.ts';
import type { HubEndpoint } from '../../hubEndpoint.ts';
import type { AzureSignalRMetrics } from './azureSignalRMetrics.ts';
import type { AzureSignalRConnection } from './connectionString.ts';
import type { AzureSignalRRest } from './restClient.ts';
import { NEGOTIATE_RETRY, type RetryPolicy, withRetries } from './retryPolicy.ts';
import { clientTarget } from './serviceUrls.ts';
import { signServiceToken } from './signServiceToken.ts';

export interface AzureHubEndpointOptions {
  readonly connection: AzureSignalRConnection;
  readonly rest: AzureSignalRRest;
  /** Hub name; the client URL and `aud` use it in lower case. */
  readonly hub: string;
  readonly logger: Logger;
  readonly metrics: AzureSignalRMetrics;
  /**
   * Where clients go when the service does not accept the group membership in time: the
   * negotiate answer then comes from this endpoint (the embedded hub in `src/server.ts`).
   * Without it such a negotiate fails with 503 (`UnavailableError`).
   */
  readonly fallback?: HubEndpoint;
  /** Defaults to `NEGOTIATE_RETRY` (3 attempts, 100 ms doubling to 1 s). */
  readonly retry?: RetryPolicy;
  /** The whole membership step (every attempt) must finish within this. Defaults to 5 s. */
  readonly timeoutMs?: number;
}

/** The SDK's default client token lifetime, the upper bound here. */
const MAX_CLIENT_TOKEN_SECONDS = 3600;

/**
 * Negotiate for serverless mode (protocol doc §11.3, contract §5): adds the caller (as a
 * user) to each of the negotiated groups with `PUT …/users/{user}/groups/{group}?ttl=`, then
 * answers the redirect form `{ url: <client URL>/client/?hub=status, accessToken }` whose token
 * is HS256 with the AccessKey, `aud` = the client URL as the SDK builds it, `nameid` = the
 * user id and `exp` = the stream token's, and asks the service to close the connection then
 * (`asrs.s.coae`, `asrs.s.aeo`): the memberships' TTL runs to the same moment but only
 * governs connections opened later, so without the close an open connection would keep
 * receiving after its token ran out. The memberships exist before the answer
 * leaves, so a client that connects receives the groups' messages; what was sent before it
 * connected it reads from `GET /jobs/{id}/history?after=r`.
 */
export function createAzureHubEndpoint(options: AzureHubEndpointOptions): HubEndpoint {
  const { connection, rest, logger, metrics, fallback } = options;
  const client = clientTarget(connection, options.hub);
  const retry = options.retry ?? NEGOTIATE_RETRY;
  const timeoutMs = options.timeoutMs ?? 5_000;

  return {
    async negotiate(request) {
      const { principal, groups, streamToken } = request;
      const now = Math.floor(Date.now() / 1000);
      const expiresAt = Math.min(decodeJwt(streamToken).exp ?? now, now + MAX_CLIENT_TOKEN_SECONDS);
      const ttlSeconds = Math.max(1, expiresAt - now);

      const signal = AbortSignal.timeout(timeoutMs);
      const outcomes = await Promise.all(
        groups.map((group) =>
          withRetries(() => rest.addUserToGroup(principal.userId, group, ttlSeconds, signal), retry, signal, metrics.retry),
        ),
      );
      const failed = outcomes.filter((outcome) => outcome.kind !== 'ok');
      for (const outcome of outcomes) metrics.membership(outcome.kind === 'ok' ? 'added' : 'failed');
      if (failed.length > 0) {
        logger.warn(
          { user_id: principal.userId, groups, details: failed.map((outcome) => outcome.detail), fallback: fallback !== undefined },
          'Azure SignalR did not accept the group membership for negotiate',
        );
        if (fallback) {
          metrics.negotiate('fallback');
          return fallback.negotiate(request);
        }
        metrics.negotiate('failed');
        throw new UnavailableError('Azure SignalR Service did not accept the group membership; retry shortly.');
      }

      const accessToken = await signServiceToken(connection.accessKey, {
        audience: client.audience,
        expiresAtSeconds: expiresAt,
        // Without these the service keeps the connection open past `exp`, in its groups for
        // good: a membership's TTL only governs connections opened later. With them it closes
        // the connection at `asrs.s.aeo` in a way that lets the client reconnect, which
        // negotiates again (Azure/azure-signalr #1954, PR #2036; the .NET SDK sets them for
        // `CloseOnAuthenticationExpiration`).
        claims: { nameid: principal.userId, 'asrs.s.coae': 'true', 'asrs.s.aeo': String(expiresAt) },
      });
      metrics.negotiate('azure');
      return { url: client.url, accessToken, serverless: true };
    },
  };
}
