import { randomUUID } from 'node:crypto';
import type { BrowserContext, Route } from 'playwright-core';
import { jobStreamName } from '../../../src/domain/job/events.ts';
import { appendToStream } from '../../../src/store/eventStore.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { type AzureSignalRStandIn, startAzureSignalRStandIn } from '../../support/azureSignalRStandIn.ts';
import { eventually } from '../../support/testServer.ts';
import { openPage, screenshot, timelineRevisions, unexpectedErrors, waitForRevisions } from '../support/page.ts';
import { type WebFixture, range, startWebFixture } from '../support/webFixture.ts';

/** A gate a test opens when it is ready; routes wait on it. */
function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

/**
 * The page with statuscast in Azure SignalR Service serverless mode, against the local
 * STAND-IN of the service (`test/support/azureSignalRStandIn.ts`, not the service): the
 * browser negotiates with statuscast, connects to the stand-in's client endpoint on another
 * origin, never invokes a hub method, and catches up over `GET /jobs/{id}/history?after=`.
 */
export function jobViewOverAzureServerless(context: () => BrowserContext): void {
  describe('job view through Azure SignalR Service, serverless (stand-in)', () => {
    let standIn: AzureSignalRStandIn | undefined;
    let fixture: WebFixture | undefined;
    afterEach(async () => {
      // Every REST call and client token the stand-in saw followed the service's rules.
      const problems = standIn?.problems() ?? [];
      await fixture?.close();
      await standIn?.close();
      fixture = undefined;
      standIn = undefined;
      expect(problems).toEqual([]);
    });

    async function start(): Promise<{ standIn: AzureSignalRStandIn; fixture: WebFixture }> {
      standIn = await startAzureSignalRStandIn();
      fixture = await startWebFixture({ env: { AZURE_SIGNALR_CONNECTION_STRING: standIn.connectionString } });
      return { standIn, fixture };
    }

    it('renders the history, applies live events once each in order, and recovers every revision after the service drops the connection', async () => {
      const { standIn, fixture } = await start();
      await fixture.publish('job-az', 'alice', 3);
      const { page, errors, urls } = await openPage(context(), await fixture.server.token('alice'));
      try {
        const serviceNegotiate = gate();
        let networkDown = false;
        await page.route(`${standIn.url}/client/negotiate*`, async (route: Route) => {
          await serviceNegotiate.wait;
          if (networkDown) await route.abort();
          else await route.fallback();
        });
        await page.goto(`${fixture.url}/job/job-az`);
        await waitForRevisions(page, 3);
        // Nothing has reached the service yet: these three came from negotiate's history.
        expect(await page.getAttribute('#link', 'data-status')).toBe('connecting');
        expect(standIn.clientRequests).toEqual([]);
        // Negotiate added alice to the job's group before it answered.
        expect(standIn.clients.memberships.get('alice')?.has('job:job-az:user:alice')).toBe(true);

        // Appended after negotiate, before the connection: only the HTTP catch-up can bring it.
        await fixture.publish('job-az', 'alice', 1);
        await eventually(() => standIn.groupSends('job:job-az:user:alice').length === 8, 10_000, 'sends of revisions 1..4');
        serviceNegotiate.open();
        await page.waitForSelector('#link[data-status="live"]');
        expect(await page.textContent('#link')).toMatch(/Live · SignalR · WebSockets/);
        await waitForRevisions(page, 4);
        expect(standIn.clients.connectionsOf('alice')).toBe(1);
        expect(urls.some((u) => u.startsWith(`${fixture.url}/jobs/job-az/history?after=3`))).toBe(true);
        expect(urls.some((u) => u.startsWith(`${standIn.url.replace('http:', 'ws:')}/client/?hub=status&id=`))).toBe(true);

        // Live through the service: each revision appears once, in order.
        for (let revision = 5; revision <= 7; revision++) {
          await fixture.publish('job-az', 'alice', 1);
          await waitForRevisions(page, revision);
          expect(await timelineRevisions(page)).toEqual(range(revision));
        }
        expect(standIn.clients.delivered.filter((d) => d.group === 'job:job-az:user:alice' && d.target === 'timeline.event')).toHaveLength(3);
        expect(await page.textContent('#job-message')).toBe('job-az step 7');
        await screenshot(page, 'job-azure-serverless');

        // The service drops the connection; reconnecting fails until the network is back.
        networkDown = true;
        expect(standIn.dropClients()).toBeGreaterThan(0);
        await page.waitForSelector('#banner', { state: 'visible' });
        expect(await page.textContent('#banner')).toMatch(/Connection lost\. Reconnecting/);
        await fixture.publish('job-az', 'alice', 3);
        // Sent to the group while alice had no connection: the service delivered them to no one.
        await eventually(() => standIn.groupSends('job:job-az:user:alice').length === 20, 10_000, 'sends of revisions 8..10');
        expect(standIn.clients.delivered.filter((d) => d.group === 'job:job-az:user:alice' && d.target === 'timeline.event')).toHaveLength(3);
        expect(await timelineRevisions(page)).toEqual(range(7));

        networkDown = false;
        await page.waitForSelector('#banner', { state: 'hidden', timeout: 20_000 });
        await page.waitForSelector('#link[data-status="live"]');
        // Revisions 8..10 were never delivered: the catch-up over HTTP brought them.
        await waitForRevisions(page, 10);
        // After the refused attempt the page negotiated again, which renewed the membership.
        expect(standIn.calls.filter((call) => call.route.kind === 'add-user-to-group').length).toBeGreaterThanOrEqual(2);
        await fixture.publish('job-az', 'alice', 1);
        await waitForRevisions(page, 11);
        expect(await timelineRevisions(page)).toEqual(range(11));
        expect(await page.textContent('#link')).toMatch(/Live · SignalR · WebSockets/);
        expect(await page.textContent('#job-message')).toBe('job-az step 11');
        // Only the refused reconnect attempt may have logged errors.
        expect(unexpectedErrors(errors, [/ERR_FAILED|ERR_CONNECTION|Failed to (start|complete)|negotiat|WebSocket|Failed to fetch/i])).toEqual([]);
      } finally {
        await page.close();
      }
    }, 30_000);

    it('fills the hole a send the service rejected leaves, from the history API', async () => {
      const { standIn, fixture } = await start();
      await fixture.publish('job-hole', 'alice', 2);
      const { page, errors } = await openPage(context(), await fixture.server.token('alice'));
      try {
        await page.goto(`${fixture.url}/job/job-hole`);
        await page.waitForSelector('#link[data-status="live"]');
        await waitForRevisions(page, 2);

        // Revision 3's four sends (two targets, two groups) are refused (400 is not retried).
        standIn.failNext(4, 400);
        await fixture.publish('job-hole', 'alice', 1);
        await eventually(() => standIn.calls.filter((call) => call.status === 400).length === 4, 10_000, 'the refused sends');
        expect(await timelineRevisions(page)).toEqual([1, 2]);

        // Revision 4 arrives live with 3 missing: the page reads 3 from the history API.
        await fixture.publish('job-hole', 'alice', 1);
        await waitForRevisions(page, 4);
        expect(await timelineRevisions(page)).toEqual(range(4));
        expect(await page.textContent('#job-message')).toBe('job-hole step 4');
        expect(await page.getAttribute('#link', 'data-status')).toBe('live');
        expect(unexpectedErrors(errors)).toEqual([]);
      } finally {
        await page.close();
      }
    });

    it('shows at once an event too large for the service, which arrives as timeline.ref', async () => {
      const { standIn, fixture } = await start();
      await fixture.publish('job-huge', 'alice', 2);
      const { page, errors } = await openPage(context(), await fixture.server.token('alice'));
      try {
        await page.goto(`${fixture.url}/job/job-huge`);
        await page.waitForSelector('#link[data-status="live"]');
        await waitForRevisions(page, 2);
        // Written by another producer: over the service's 1 MB request limit.
        await appendToStream(
          fixture.server.server.store,
          jobStreamName('job-huge'),
          [
            {
              id: randomUUID(),
              type: 'StatusReported',
              data: {
                job_id: 'job-huge', user_id: 'alice', message_id: 'huge-3', stage: 'render', state: 'running',
                message: 'job-huge step 3', artifact: null, cycle: null, progress: 0.3,
                details: { blob: 'x'.repeat(1_100_000) }, ts: new Date().toISOString(),
              },
              metadata: {},
            },
          ],
          2,
        );
        await eventually(() => standIn.groupSends('job:job-huge:user:alice').some((call) => call.message?.target === 'timeline.ref'), 10_000, 'the reference');
        // No later event is needed to reveal it: the page reads revision 3 from the history API.
        await waitForRevisions(page, 3);
        expect(await timelineRevisions(page)).toEqual(range(3));
        expect(standIn.calls.filter((call) => call.status === 413)).toEqual([]);
        expect(unexpectedErrors(errors)).toEqual([]);
      } finally {
        await page.close();
      }
    });
  });
}
