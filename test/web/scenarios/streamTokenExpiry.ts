import type { BrowserContext, Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../support/testServer.ts';
import { openPage, timelineRevisions, unexpectedErrors, waitForRevisions } from '../support/page.ts';
import { type WebFixture, range, startWebFixture } from '../support/webFixture.ts';

// Browser globals for the callbacks that run inside Chromium; the Node program has no DOM lib.
declare const document: any, window: any, MutationObserver: any;

/** Counts every time the outage banner becomes visible, from inside the page. */
async function watchBanner(page: Page): Promise<() => Promise<number>> {
  await page.evaluate(() => {
    const banner = document.getElementById('banner')!;
    const w = window as unknown as { bannerShown: number };
    w.bannerShown = 0;
    new MutationObserver(() => {
      if (!banner.hidden) w.bannerShown++;
    }).observe(banner, { attributes: true, attributeFilter: ['hidden'] });
  });
  return () => page.evaluate(() => (window as unknown as { bannerShown: number }).bannerShown);
}

export function streamTokenExpiry(context: () => BrowserContext): void {
  describe('stream token expiry', () => {
    let fixture: WebFixture | undefined;
    afterEach(async () => {
      await fixture?.close();
      fixture = undefined;
    });

    it('re-negotiates when the stream token expires and keeps streaming, with no outage banner (SignalR and SSE)', async () => {
      // 30 s is the shortest stream-token lifetime the service accepts.
      fixture = await startWebFixture({ env: { STREAM_TOKEN_TTL_SECONDS: '30' } });
      await fixture.publish('job-ttl', 'alice', 2);
      const token = await fixture.server.token('alice');
      const pages = [await openPage(context(), token), await openPage(context(), token)];
      try {
        const [signalr, sse] = pages as [(typeof pages)[0], (typeof pages)[0]];
        await signalr.page.goto(`${fixture.url}/job/job-ttl`);
        await sse.page.goto(`${fixture.url}/job/job-ttl?transport=sse`);
        for (const { page } of pages) await page.waitForSelector('#link[data-status="live"]');
        const bannerCounts = await Promise.all(pages.map(({ page }) => watchBanner(page)));
        const negotiations = (urls: string[]) => urls.filter((u) => u.endsWith('/jobs/job-ttl/signalr/negotiate')).length;
        expect(negotiations(signalr.urls)).toBe(1);
        expect(negotiations(sse.urls)).toBe(1);

        // The server closes both connections when the token expires; each page renews and resumes.
        await eventually(() => negotiations(signalr.urls) >= 2 && negotiations(sse.urls) >= 2, 45_000, 'a second negotiate');
        for (const { page } of pages) await page.waitForSelector('#link[data-status="live"]');
        await fixture.publish('job-ttl', 'alice', 2);
        for (const { page } of pages) {
          await waitForRevisions(page, 4);
          expect(await timelineRevisions(page)).toEqual(range(4));
        }
        for (const count of bannerCounts) expect(await count()).toBe(0);
        for (const { errors } of pages) expect(unexpectedErrors(errors, [/ERR_INCOMPLETE_CHUNKED_ENCODING/])).toEqual([]);
      } finally {
        for (const { page } of pages) await page.close();
      }
    }, 90_000);
  });
}
