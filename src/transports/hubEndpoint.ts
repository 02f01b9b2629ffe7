import type { Principal } from '../auth/principal.ts';

/**
 * Where negotiate sends a SignalR client: the embedded hub (with the stream token) or
 * Azure SignalR Service in serverless mode (with a token signed for the service, after
 * adding the user to the groups through its REST API).
 */
export interface HubEndpoint {
  negotiate(request: {
    readonly principal: Principal;
    readonly groups: readonly string[];
    /** Base URL of this service as the client sees it (`PUBLIC_URL` or the request's). */
    readonly baseUrl: string;
    /** The stream token negotiate minted for these groups. */
    readonly streamToken: string;
  }): Promise<HubConnectionGrant>;
}

export interface HubConnectionGrant {
  readonly url: string;
  readonly accessToken: string;
  /**
   * True for Azure SignalR Service in serverless mode: the service pushes to the groups
   * negotiate joined, accepts no hub methods (no `Subscribe`), and the client catches up over
   * `GET /jobs/{id}/history?after=r` instead (contract §5).
   */
  readonly serverless?: boolean;
}

export const HUB_PATH = '/hubs/status';
export const HUB_NAME = 'status';

/** The embedded hub: same origin, the stream token is the access token. */
export const embeddedHubEndpoint: HubEndpoint = {
  async negotiate({ baseUrl, streamToken }) {
    return { url: `${baseUrl}${HUB_PATH}`, accessToken: streamToken };
  },
};
