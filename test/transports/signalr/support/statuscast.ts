import type { TestServer } from '../../../support/testServer.ts';

export interface Negotiated {
  readonly url: string;
  readonly accessToken: string;
  readonly groups: readonly string[];
}

/** `POST /jobs/{id}/signalr/negotiate` (or the feed's `POST /signalr/negotiate`) as `userToken`. */
export async function negotiateHub(t: TestServer, userToken: string, jobId?: string): Promise<Negotiated> {
  const path = jobId === undefined ? '/signalr/negotiate' : `/jobs/${encodeURIComponent(jobId)}/signalr/negotiate`;
  const response = await fetch(`${t.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${userToken}` } });
  if (response.status !== 200) throw new Error(`negotiate answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as Negotiated;
}
