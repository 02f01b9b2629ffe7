import type { BrowserContext, Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../support/testServer.ts';
import { type WatchedPage, openPage, timelineRevisions, unexpectedErrors, waitForRevisions } from '../support/page.ts';
import { type WebFixture, range, startWebFixture } from '../support/webFixture.ts';

// Browser globals for the callbacks that run inside Chromium; the Node program has no DOM lib.
declare const document: any, window: any, MutationObserver: any;

/**
 * A tab of the job view that also counts, from inside the page, how often each revision was
 * inserted into the timeline (a re-render or a duplicate would count twice).
 */
async function openJobTab(context: BrowserContext, fixture: WebFixture, token: string, jobId: string): Promise<WatchedPage> {
  const tab = await openPage(context, token);
  await tab.page.addInitScript(() => {
    const w = window as { inserted: Record<string, number> };
    w.inserted = {};
    new MutationObserver((records: { addedNodes: { nodeType: number; matches(s: string): boolean; getAttribute(n: string): string }[] }[]) => {
      for (const record of records) {
        for (const node of record.addedNodes) {
          if (node.nodeType !== 1 || !node.matches('#timeline > li')) continue;
          const revision = node.getAttribute('data-revision');
          w.inserted[revision] = (w.inserted[revision] ?? 0) + 1;
        }
      }
    }).observe(document, { childList: true, subtree: true });
  });
  await tab.page.goto(`${fixture.url}/job/${jobId}`);
  await tab.page.waitForSelector('#link[data-status="live"]');
  return tab;
}

/** How often the page inserted each revision, as `[revision, count]` in revision order. */
async function insertions(page: Page): Promise<[number, number][]> {
  const counts: Record<string, number> = await page.evaluate(() => (window as { inserted: Record<string, number> }).inserted);
  return Object.entries(counts)
    .map(([revision, count]): [number, number] => [Number(revision), count])
    .sort((a, b) => a[0] - b[0]);
}

const once = (n: number): [number, number][] => range(n).map((revision) => [revision, 1]);
const roles = (tabs: readonly WatchedPage[]) => Promise.all(tabs.map(({ page }) => page.getAttribute('#link', 'data-role')));

async function leaderOf(tabs: readonly WatchedPage[]): Promise<WatchedPage> {
  return eventually(async () => {
    const found = await roles(tabs);
    return found.filter((role) => role === 'leader').length === 1 ? tabs[found.indexOf('leader')] : undefined;
  }, 10_000, 'exactly one leader tab') as Promise<WatchedPage>;
}

/** Publishes `count` statuses one by one, a little apart, like a worker would. */
async function publishSlowly(fixture: WebFixture, jobId: string, count: number, gapMs: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await fixture.publish(jobId, 'alice', 1);
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
}

export function sharedTabs(context: () => BrowserContext): void {
  describe('one connection per browser, shared by the tabs', () => {
    let fixture: WebFixture | undefined;
    let tabs: WatchedPage[] = [];
    afterEach(async () => {
      for (const { page } of tabs) if (!page.isClosed()) await page.close();
      tabs = [];
      await fixture?.close();
      fixture = undefined;
    });

    it('two and then three tabs of the same job hold one connection in total, and each renders every revision once', async () => {
      fixture = await startWebFixture();
      await fixture.publish('job-tabs', 'alice', 3);
      const token = await fixture.server.token('alice');
      tabs.push(await openJobTab(context(), fixture, token, 'job-tabs'));
      tabs.push(await openJobTab(context(), fixture, token, 'job-tabs'));
      expect((await roles(tabs)).sort()).toEqual(['follower', 'leader']);
      expect(fixture.connectionsOpened()).toEqual({ hub: 1, sse: 0 });
      expect(await fixture.openConnections()).toBe(1);

      tabs.push(await openJobTab(context(), fixture, token, 'job-tabs'));
      expect((await roles(tabs)).sort()).toEqual(['follower', 'follower', 'leader']);
      for (const { page } of tabs) expect(await page.textContent('#link')).toMatch(/^Live · SignalR · WebSockets/);
      await fixture.publish('job-tabs', 'alice', 20);
      for (const { page } of tabs) {
        await waitForRevisions(page, 23);
        expect(await timelineRevisions(page)).toEqual(range(23));
        expect(await insertions(page)).toEqual(once(23));
        expect(await page.textContent('#job-message')).toBe('job-tabs step 23');
      }
      // Counted by the server: one hub connection for three tabs, and no SSE stream.
      expect(fixture.connectionsOpened()).toEqual({ hub: 1, sse: 0 });
      expect(await fixture.openConnections()).toBe(1);
      for (const { errors } of tabs) expect(unexpectedErrors(errors)).toEqual([]);
    });

    it('when the leader tab closes mid-stream another takes over and resumes where it was: nothing missed, nothing twice', async () => {
      fixture = await startWebFixture();
      await fixture.publish('job-handover', 'alice', 2);
      const token = await fixture.server.token('alice');
      for (let i = 0; i < 3; i++) tabs.push(await openJobTab(context(), fixture, token, 'job-handover'));
      const leader = await leaderOf(tabs);

      const publishing = publishSlowly(fixture, 'job-handover', 40, 20);
      await waitForRevisions(leader.page, 12);
      await leader.page.close();
      await publishing;
      const rest = tabs.filter((tab) => tab !== leader);
      for (const { page } of rest) {
        await waitForRevisions(page, 42);
        expect(await timelineRevisions(page)).toEqual(range(42));
        expect(await insertions(page)).toEqual(once(42));
      }
      await leaderOf(rest);
      // The closed tab's connection and the one its successor opened; one is open now.
      expect(fixture.connectionsOpened()).toEqual({ hub: 2, sse: 0 });
      await eventually(async () => (await fixture!.openConnections()) === 1, 10_000, 'one open connection');
      for (const { errors } of rest) expect(unexpectedErrors(errors)).toEqual([]);
    }, 60_000);

    // Chromium freezes a background page (and fires `freeze` first) to save power. Its headless
    // build ignores CDP's Page.setWebLifecycleState (timers keep running), so the test does what
    // freezing does: it fires `freeze`, then stops the page's main thread with the debugger.
    it('a frozen leader hands over; when it wakes it catches up from the new leader', async () => {
      fixture = await startWebFixture();
      await fixture.publish('job-freeze', 'alice', 2);
      const token = await fixture.server.token('alice');
      for (let i = 0; i < 2; i++) tabs.push(await openJobTab(context(), fixture, token, 'job-freeze'));
      const leader = await leaderOf(tabs);
      const other = tabs.find((tab) => tab !== leader)!;

      const cdp = await context().newCDPSession(leader.page);
      await leader.page.evaluate(() => document.dispatchEvent(new Event('freeze')));
      await leader.page.waitForSelector('#link[data-role="follower"]');
      await cdp.send('Debugger.enable');
      await cdp.send('Debugger.pause');
      await other.page.waitForSelector('#link[data-role="leader"][data-status="live"]');
      await fixture.publish('job-freeze', 'alice', 5);
      await waitForRevisions(other.page, 7);
      expect(fixture.connectionsOpened()).toEqual({ hub: 2, sse: 0 });
      await eventually(async () => (await fixture!.openConnections()) === 1, 10_000, 'the frozen tab closed its connection');

      await cdp.send('Debugger.resume');
      await cdp.send('Debugger.disable');
      await leader.page.evaluate(() => document.dispatchEvent(new Event('resume')));
      await fixture.publish('job-freeze', 'alice', 1);
      for (const { page } of tabs) {
        await waitForRevisions(page, 8);
        expect(await timelineRevisions(page)).toEqual(range(8));
        expect(await insertions(page)).toEqual(once(8));
      }
      expect(await roles(tabs)).toEqual(tabs.map((tab) => (tab === leader ? 'follower' : 'leader')));
      expect(fixture.connectionsOpened()).toEqual({ hub: 2, sse: 0 });
      expect(await fixture.openConnections()).toBe(1);
      await cdp.detach();
    });
  });
}
