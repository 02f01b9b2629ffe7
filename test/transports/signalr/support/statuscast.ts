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

/** Resolves once the live feed has dispatched everything appended so far. */
export async function dispatched(t: TestServer): Promise<void> {
  const head = await t.server.store.headPosition();
  const deadline = Date.now() + 10_000;
  while (head && (t.server.liveFeed.position?.commit ?? -1n) < head.commit) {
    if (Date.now() > deadline) throw new Error('live feed did not catch up');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
