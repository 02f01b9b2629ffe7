import type { BrowserContext, Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { openSse } from '../../support/sseReader.ts';
import { openPage, screenshot, timelineRevisions, unexpectedErrors, waitForRevisions } from '../support/page.ts';
import { type WebFixture, range, startWebFixture } from '../support/webFixture.ts';

/** What a reader sees of the timeline: revision, stage, state and message of each entry. */
function timelineText(page: Page): Promise<string[]> {
  return page.$$eval('#timeline > li', (items) =>
    items.map((item) =>
      [
        item.getAttribute('data-revision'),
        item.querySelector('.entry-stage')?.textContent,
        item.querySelector('.badge')?.textContent,
        item.querySelector('.entry-message')?.textContent,
      ].join(' | '),
    ),
  );
}

export function jobViewOverSse(context: () => BrowserContext): void {
  describe('job view over SSE', () => {
    let fixture: WebFixture | undefined;
    afterEach(async () => {
      await fixture?.close();
      fixture = undefined;
    });

    it('?transport=sse renders the history first, then shows the same timeline as SignalR', async () => {
      fixture = await startWebFixture();
      await fixture.publish('job-sse', 'alice', 3);
      const token = await fixture.server.token('alice');
      const sse = await openPage(context(), token);
      const signalr = await openPage(context(), token);
      try {
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        await sse.page.route(/\/jobs\/job-sse\/events\?/, async (route) => {
          await held;
          await route.fallback();
        });
        await sse.page.goto(`${fixture.url}/job/job-sse?transport=sse`);
        await waitForRevisions(sse.page, 3);
        expect(await sse.page.getAttribute('#link', 'data-status')).toBe('connecting');
        release();
        await sse.page.waitForSelector('#link[data-status="live"]');
        expect(await sse.page.textContent('#link')).toBe('Live · SSE (forced by ?transport=sse)');

        await signalr.page.goto(`${fixture.url}/job/job-sse`);
        await signalr.page.waitForSelector('#link[data-status="live"]');
        await fixture.publish('job-sse', 'alice', 3);
        await waitForRevisions(sse.page, 6);
        await waitForRevisions(signalr.page, 6);
        expect(await timelineRevisions(sse.page)).toEqual(range(6));
        expect(await timelineText(sse.page)).toEqual(await timelineText(signalr.page));
        expect(await sse.page.textContent('#job-message')).toBe(await signalr.page.textContent('#job-message'));
        // No SignalR traffic at all from the forced-SSE page.
        expect(sse.urls.some((u) => u.includes('/hubs/status'))).toBe(false);
        await screenshot(sse.page, 'job-sse');
        expect(unexpectedErrors(sse.errors)).toEqual([]);
      } finally {
        await sse.page.close();
        await signalr.page.close();
      }
    });

    it('shows every revision once when the stream replays a bulk, duplicates and stale events', async () => {
      fixture = await startWebFixture();
      await fixture.publish('job-sse-dup', 'alice', 3);
      const token = await fixture.server.token('alice');
      // Real frames from the server: the bulk 1..3, then live 4 and 5.
      const reader = await openSse(`${fixture.url}/jobs/job-sse-dup/events`, { authorization: `Bearer ${token}` });
      await reader.waitForEvents(1, 'timeline.bulk');
      await fixture.publish('job-sse-dup', 'alice', 2);
      await reader.waitForEvents(2, 'status.latest');
      reader.close();
      const frame = (name: string, index: number) => {
        const event = reader.events.filter((e) => e.event === name)[index]!;
        return `${event.id !== undefined ? `id: ${event.id}\n` : ''}event: ${event.event}\ndata: ${event.data}\n\n`;
      };
      const replayed = [
        frame('timeline.bulk', 0),
        frame('timeline.event', 0),
        frame('status.latest', 0),
        frame('timeline.event', 0),
        frame('timeline.bulk', 0),
        frame('timeline.event', 1),
        frame('timeline.event', 0),
        frame('status.latest', 1),
        frame('status.latest', 0),
      ].join('');

      const { page, errors } = await openPage(context(), token);
      try {
        let first = true;
        await page.route(/\/jobs\/job-sse-dup\/events\?/, async (route) => {
          if (!first) return route.fallback();
          first = false;
          // One response holding the replay; when it ends, the page resumes from the server.
          await route.fulfill({ status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }, body: replayed });
        });
        await page.goto(`${fixture.url}/job/job-sse-dup?transport=sse`);
        await waitForRevisions(page, 5);
        expect(await timelineRevisions(page)).toEqual(range(5));
        expect(await page.textContent('#job-message')).toBe('job-sse-dup step 5');

        await page.waitForSelector('#link[data-status="live"]');
        await fixture.publish('job-sse-dup', 'alice', 1);
        await waitForRevisions(page, 6);
        expect(await timelineRevisions(page)).toEqual(range(6));
        expect(await page.textContent('#job-message')).toBe('job-sse-dup step 6');
        expect(unexpectedErrors(errors)).toEqual([]);
      } finally {
        await page.close();
      }
    });

    it('shows a banner when the server drops the stream, and Retry (from the keyboard) recovers every revision once', async () => {
      fixture = await startWebFixture();
      await fixture.publish('job-sse-drop', 'alice', 2);
      const { page, errors } = await openPage(context(), await fixture.server.token('alice'));
      try {
        let blocked = false;
        await page.route(/\/jobs\/job-sse-drop\/events\?/, (route) => (blocked ? route.abort() : route.fallback()));
        await page.goto(`${fixture.url}/job/job-sse-drop?transport=sse`);
        await page.waitForSelector('#link[data-status="live"]');

        blocked = true;
        expect(fixture.dropConnections()).toBeGreaterThan(0);
        await page.waitForSelector('#banner', { state: 'visible' });
        await fixture.publish('job-sse-drop', 'alice', 2);
        expect(await page.textContent('#banner')).toMatch(/Connection lost\. Reconnecting/);

        blocked = false;
        await page.focus('#retry');
        await page.keyboard.press('Enter');
        await page.waitForSelector('#banner', { state: 'hidden' });
        await page.waitForSelector('#link[data-status="live"]');
        await waitForRevisions(page, 4);
        await fixture.publish('job-sse-drop', 'alice', 1);
        await waitForRevisions(page, 5);
        expect(await timelineRevisions(page)).toEqual(range(5));
        expect(unexpectedErrors(errors, [/ERR_FAILED|ERR_CONNECTION|ERR_INCOMPLETE_CHUNKED_ENCODING|EventSource/i])).toEqual([]);
      } finally {
        await page.close();
      }
    });

    it("shows a clear 'not found' view for another user's job and for a job that does not exist", async () => {
      fixture = await startWebFixture();
      await fixture.publish('job-alice', 'alice', 2);
      const { page, errors } = await openPage(context(), await fixture.server.token('bob'));
      try {
        for (const jobId of ['job-alice', 'job-nobody']) {
          await page.goto(`${fixture.url}/job/${jobId}`);
          await page.waitForSelector('#not-found');
          expect(await page.textContent('h1')).toBe('Job not found');
          expect(await page.textContent('#not-found')).toContain(`There is no job ${jobId} that you can see`);
          expect(await page.isVisible('a[href="/"]')).toBe(true);
          expect(await page.$('#timeline')).toBeNull();
          // Nothing of alice's job leaks into the page.
          expect(await page.content()).not.toContain('job-alice step');
        }
        await page.goto(`${fixture.url}/job/job-alice`);
        await page.waitForSelector('#not-found');
        await screenshot(page, 'job-not-found');
        expect(unexpectedErrors(errors, [/404/])).toEqual([]);
      } finally {
        await page.close();
      }
    });
  });
}
