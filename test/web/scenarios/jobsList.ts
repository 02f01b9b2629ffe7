import type { BrowserContext, Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { openPage, screenshot, unexpectedErrors, waitForRevisions } from '../support/page.ts';
import { type WebFixture, startWebFixture } from '../support/webFixture.ts';

// Browser globals for the callbacks that run inside Chromium; the Node program has no DOM lib.
declare const document: any, window: any;

function listedJobs(page: Page): Promise<string[]> {
  return page.$$eval('#jobs-body > tr', (rows) => rows.map((row) => row.getAttribute('data-job-id') ?? ''));
}

export function jobsList(context: () => BrowserContext): void {
  describe('jobs list', () => {
    let fixture: WebFixture | undefined;
    afterEach(async () => {
      await fixture?.close();
      fixture = undefined;
    });

    it("lists the caller's jobs newest first and follows them live from the feed (SubscribeFeed)", async () => {
      fixture = await startWebFixture();
      await fixture.publish('job-a', 'alice', 2);
      await fixture.publish('job-bob', 'bob', 1);
      await fixture.publish('job-b', 'alice', 1);
      const { page, errors } = await openPage(context(), await fixture.server.token('alice'));
      try {
        await page.goto(`${fixture.url}/`);
        await page.waitForSelector('#jobs-body > tr');
        expect(await listedJobs(page)).toEqual(['job-b', 'job-a']);
        expect(await page.textContent('h1')).toBe('Your jobs');
        await page.waitForSelector('#link[data-status="live"]');
        expect(await page.textContent('#link')).toBe('Live · SignalR · WebSockets');

        await fixture.publish('job-a', 'alice', 1, { state: 'succeeded', stage: 'publish', progress: 1 });
        await page.waitForSelector('tr[data-job-id="job-a"][data-state="succeeded"]');
        expect(await page.textContent('tr[data-job-id="job-a"] .cell-stage')).toBe('publish');
        await page.waitForFunction(() => document.getElementById('announcer')?.textContent === 'Job job-a succeeded.');

        // Another user's new job is filtered out by the server; the caller's new job goes on top.
        await fixture.publish('job-bob-2', 'bob', 1);
        await fixture.publish('job-c', 'alice', 1);
        await page.waitForSelector('tr[data-job-id="job-c"]');
        expect(await listedJobs(page)).toEqual(['job-c', 'job-b', 'job-a']);
        await screenshot(page, 'jobs-list');

        // Keyboard: the job link opens the job view.
        await page.focus('tr[data-job-id="job-a"] a');
        await page.keyboard.press('Enter');
        await page.waitForURL(`${fixture.url}/job/job-a`);
        await waitForRevisions(page, 3);
        expect(unexpectedErrors(errors)).toEqual([]);
      } finally {
        await page.close();
      }
    });

    it('lets an admin see every job', async () => {
      fixture = await startWebFixture();
      await fixture.publish('job-a', 'alice', 1);
      await fixture.publish('job-bob', 'bob', 1);
      const { page } = await openPage(context(), await fixture.server.token('root', ['admin']));
      try {
        await page.goto(`${fixture.url}/`);
        await page.waitForSelector('#jobs-body > tr');
        expect(await page.textContent('h1')).toBe('All jobs');
        expect(await listedJobs(page)).toEqual(['job-bob', 'job-a']);
      } finally {
        await page.close();
      }
    });

    it('stays readable at phone width (no sideways scrolling)', async () => {
      fixture = await startWebFixture();
      await fixture.publish('job-with-a-rather-long-identifier-0001', 'alice', 4, {
        details: { pages: 12, files: ['a-very-long-file-name-that-could-overflow-a-narrow-screen.csv'] },
        artifact: 'reports/2026-Q4/a-long-artifact-name-for-the-quarter.pdf',
      });
      const { page } = await openPage(context(), await fixture.server.token('alice'));
      try {
        await page.setViewportSize({ width: 375, height: 812 });
        const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        await page.goto(`${fixture.url}/`);
        await page.waitForSelector('#jobs-body > tr');
        expect(await overflow()).toBeLessThanOrEqual(0);
        await screenshot(page, 'jobs-list-phone');
        await page.goto(`${fixture.url}/job/job-with-a-rather-long-identifier-0001`);
        await waitForRevisions(page, 4);
        await page.click('#timeline > li:last-child summary');
        expect(await overflow()).toBeLessThanOrEqual(0);
        await screenshot(page, 'job-phone');
      } finally {
        await page.close();
      }
    });
  });
}
