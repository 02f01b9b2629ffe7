import type { BrowserContext, Route } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { openPage, screenshot, timelineRevisions, unexpectedErrors, waitForRevisions } from '../support/page.ts';
import { type WebFixture, range, startWebFixture } from '../support/webFixture.ts';

// Browser globals for the callbacks that run inside Chromium; the Node program has no DOM lib.
declare const document: any;

const RS = '\u001e';

/** A gate a test opens when it is ready; routes wait on it. */
function gate(): { wait: Promise<void>; open(): void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

export function jobViewOverSignalR(context: () => BrowserContext): void {
  describe('job view over SignalR', () => {
    let fixture: WebFixture | undefined;
    afterEach(async () => {
      await fixture?.close();
      fixture = undefined;
    });

    it('renders the history before any live event, then applies the bulk and live events in order', async () => {
      fixture = await startWebFixture();
      await fixture.publish('job-hist', 'alice', 3);
      const { page, errors, urls } = await openPage(context(), await fixture.server.token('alice'));
      try {
        const hubNegotiate = gate();
        await page.route('**/hubs/status/negotiate*', async (route: Route) => {
          await hubNegotiate.wait;
          await route.fallback();
        });
        await page.goto(`${fixture.url}/job/job-hist`);
        await waitForRevisions(page, 3);
        // The hub has not even been negotiated: this timeline can only have come from history.
        expect(await page.getAttribute('#link', 'data-status')).toBe('connecting');
        expect(urls.some((u) => u.includes('/hubs/status?'))).toBe(false);

        await fixture.publish('job-hist', 'alice', 1);
        expect(await timelineRevisions(page)).toEqual([1, 2, 3]);

        hubNegotiate.open();
        await page.waitForSelector('#link[data-status="live"]');
        await waitForRevisions(page, 4);
        await fixture.publish('job-hist', 'alice', 2);
        await waitForRevisions(page, 6);
        expect(await timelineRevisions(page)).toEqual(range(6));
        expect(await page.textContent('#link')).toMatch(/Live · SignalR · WebSockets/);
        expect(await page.textContent('#job-message')).toBe('job-hist step 6');
        expect(await page.textContent('#job-stage')).toBe('publish');
        expect(await page.getAttribute('#stages li[aria-current="step"]', 'class')).toContain('stage-current');
        await screenshot(page, 'job-signalr');
        expect(unexpectedErrors(errors)).toEqual([]);
      } finally {
        await page.close();
      }
    });

    it('shows every revision once when the test replays live frames (duplicates and stale ones)', async () => {
      fixture = await startWebFixture();
      await fixture.publish('job-dup', 'alice', 2);
      const { page, errors } = await openPage(context(), await fixture.server.token('alice'));
      let replayed = 0;
      try {
        await page.routeWebSocket(/\/hubs\/status/, (ws) => {
          const server = ws.connectToServer();
          ws.onMessage((message) => server.send(message));
          let previous: string | undefined;
          server.onMessage((message) => {
            ws.send(message);
            if (typeof message !== 'string') return;
            for (const frame of message.split(RS)) {
              if (!/"target":"(timeline\.event|timeline\.bulk|status\.latest)"/.test(frame)) continue;
              // Replay this frame at once, and the timeline frame before it (out of order).
              ws.send(`${frame}${RS}`);
              replayed++;
              if (previous !== undefined) {
                ws.send(`${previous}${RS}`);
                replayed++;
              }
              if (frame.includes('"target":"timeline.event"')) previous = frame;
            }
          });
        });
        await page.goto(`${fixture.url}/job/job-dup`);
        await page.waitForSelector('#link[data-status="live"]');
        for (let i = 0; i < 4; i++) await fixture.publish('job-dup', 'alice', 1);
        await waitForRevisions(page, 6);
        // Let the last replays land before reading the timeline.
        await page.waitForFunction(() => document.querySelectorAll('#timeline > li').length >= 6);
        expect(replayed).toBeGreaterThanOrEqual(8);
        expect(await timelineRevisions(page)).toEqual(range(6));
        expect(await page.textContent('#job-message')).toBe('job-dup step 6');
        expect(unexpectedErrors(errors)).toEqual([]);
      } finally {
        await page.close();
      }
    });

    it('shows a banner when the server drops the connection, then recovers with every revision exactly once', async () => {
      fixture = await startWebFixture();
      await fixture.publish('job-drop', 'alice', 2);
      const { page, errors } = await openPage(context(), await fixture.server.token('alice'));
      try {
        let blocked = false;
        await page.route('**/hubs/status/negotiate*', (route) => (blocked ? route.abort() : route.fallback()));
        await page.goto(`${fixture.url}/job/job-drop`);
        await page.waitForSelector('#link[data-status="live"]');
        expect(await page.isVisible('#banner')).toBe(false);

        blocked = true;
        expect(fixture.dropConnections()).toBeGreaterThan(0);
        await page.waitForSelector('#banner', { state: 'visible' });
        expect(await page.textContent('#banner')).toMatch(/Connection lost\. Reconnecting/);
        await fixture.publish('job-drop', 'alice', 3);
        await screenshot(page, 'job-signalr-reconnecting');

        blocked = false;
        await page.waitForSelector('#banner', { state: 'hidden', timeout: 20_000 });
        await page.waitForSelector('#link[data-status="live"]');
        await waitForRevisions(page, 5);
        await fixture.publish('job-drop', 'alice', 1);
        await waitForRevisions(page, 6);
        expect(await timelineRevisions(page)).toEqual(range(6));
        // Only the failed reconnect attempts may have logged errors.
        expect(unexpectedErrors(errors, [/ERR_FAILED|ERR_CONNECTION|Failed to (start|complete)|negotiat|WebSocket|Failed to fetch/i])).toEqual([]);
      } finally {
        await page.close();
      }
    }, 45_000);

    it('falls back to SSE when no SignalR transport can be opened', async () => {
      fixture = await startWebFixture();
      await fixture.publish('job-fallback', 'alice', 2);
      const { page } = await openPage(context(), await fixture.server.token('alice'));
      try {
        // WebSockets refused, and the hub's SSE and long-polling requests blocked.
        await page.routeWebSocket(/\/hubs\/status/, (ws) => ws.close({ code: 1008, reason: 'blocked by the test' }));
        await page.route(/\/hubs\/status\?id=/, (route) => route.abort());
        await page.goto(`${fixture.url}/job/job-fallback`);
        await page.waitForSelector('#link[data-status="live"][data-transport="SSE"]');
        expect(await page.textContent('#link')).toMatch(/Live · SSE \(SignalR unavailable\)/);
        await fixture.publish('job-fallback', 'alice', 2);
        await waitForRevisions(page, 4);
        expect(await timelineRevisions(page)).toEqual(range(4));
      } finally {
        await page.close();
      }
    });

    // A browser sends `Origin` on same-origin WebSocket handshakes too; the hub must accept
    // its own origin without any CORS_ORIGINS setting.
    it('uses WebSockets with the default configuration', async () => {
      fixture = await startWebFixture();
      await fixture.publish('job-ws', 'alice', 1);
      const { page, errors } = await openPage(context(), await fixture.server.token('alice'));
      try {
        await page.goto(`${fixture.url}/job/job-ws`);
        await page.waitForSelector('#link[data-status="live"]');
        expect(await page.getAttribute('#link', 'data-transport')).toBe('SignalR · WebSockets');
        expect(unexpectedErrors(errors)).toEqual([]);
      } finally {
        await page.close();
      }
    });
  });
}
