import type { BrowserContext, Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { openPage, unexpectedErrors } from '../../web/support/page.ts';
import { type WebFixture, range, startWebFixture } from '../../web/support/webFixture.ts';
import { eventually } from '../../support/testServer.ts';
import { startReactTestPage } from '../support/reactTestPage.ts';
import type { TestSite } from '../support/testSite.ts';

/** The revisions each copy of the job component shows, in DOM order. */
function copies(page: Page): Promise<number[][]> {
  return page.$$eval('.job', (sections) =>
    sections.map((section) => [...section.querySelectorAll('.timeline > li')].map((li) => Number(li.getAttribute('data-revision')))),
  );
}

async function waitForCopies(page: Page, count: number): Promise<void> {
  await eventually(async () => {
    const shown = await copies(page);
    return shown.length === 2 && shown.every((revisions) => revisions.length >= count);
  }, 15_000, `both copies to show ${count} revisions`);
}

/**
 * `@statuscast/client/react` in Chromium: a page built with esbuild from
 * test/client/reactPage/main.tsx, on its own origin, under StrictMode.
 */
export function reactHooks(context: () => BrowserContext): void {
  describe('@statuscast/client/react in Chromium', () => {
    let fixture: WebFixture | undefined;
    let app: TestSite | undefined;
    afterEach(async () => {
      await fixture?.close();
      await app?.close();
      fixture = undefined;
      app = undefined;
    });

    it('useJob and useJobs under StrictMode: one connection each, every revision once, closed on unmount, reopened on mount', async () => {
      app = await startReactTestPage();
      fixture = await startWebFixture({ env: { CORS_ORIGINS: app.url } });
      await fixture.publish('job-react', 'alice', 3);
      const token = await fixture.server.token('alice');
      const { page, errors } = await openPage(context(), null);
      try {
        const query = new URLSearchParams({ token, api: fixture.url, job: 'job-react' });
        await page.goto(`${app.url}/#${query}`);
        await page.waitForSelector('.job[data-copy="2"][data-status="live"]');
        await page.waitForSelector('#jobs[data-loaded="true"][data-status="live"]');
        await waitForCopies(page, 3);
        expect(await page.textContent('.job[data-copy="1"] .snapshot')).toBe('snapshot at 3');

        await fixture.publish('job-react', 'alice', 7);
        await waitForCopies(page, 10);
        expect(await copies(page)).toEqual([range(10), range(10)]);
        expect(await page.textContent('.job[data-copy="2"] .latest')).toBe('running: job-react step 10');
        expect(await page.getAttribute('.job[data-copy="1"]', 'data-transport')).toBe('websockets');
        await page.waitForSelector('#jobs li[data-job-id="job-react"]');
        // StrictMode mounted everything twice and two components follow the job: one
        // connection for the job and one for the feed, counted by the server.
        expect(fixture.connectionsOpened()).toEqual({ hub: 2, sse: 0 });
        expect(await fixture.openConnections()).toBe(2);

        // Unmounting the job components closes the job's connection (the feed stays).
        await page.click('#toggle');
        await eventually(async () => (await fixture!.openConnections()) === 1, 10_000, 'the job connection to close');
        await fixture.publish('job-react', 'alice', 1);
        await fixture.publish('job-react', 'alice', 1, { state: 'succeeded', stage: 'publish', progress: 1 });
        await page.waitForSelector('#jobs li[data-job-id="job-react"][data-state="succeeded"]');

        // Mounting again follows afresh: snapshot, then live, every revision once.
        await page.click('#toggle');
        await page.waitForSelector('.job[data-copy="2"][data-status="live"]');
        await waitForCopies(page, 12);
        expect(await copies(page)).toEqual([range(12), range(12)]);
        expect(await page.textContent('.job[data-copy="1"] .latest')).toBe('succeeded: job-react step 12');
        expect(fixture.connectionsOpened()).toEqual({ hub: 3, sse: 0 });
        expect(await fixture.openConnections()).toBe(2);
        expect(unexpectedErrors(errors)).toEqual([]);
      } finally {
        await page.close();
      }
    });
  });
}
