import { afterAll, beforeAll, describe } from 'vitest';
import { plainScript } from '../client/scenarios/plainScript.ts';
import { reactHooks } from '../client/scenarios/reactHooks.ts';
import { type Chromium, launchChromium } from './support/chromium.ts';
import { jobViewOverAzureServerless } from './scenarios/azureServerless.ts';
import { jobViewOverSignalR } from './scenarios/jobViewSignalR.ts';
import { jobViewOverSse } from './scenarios/jobViewSse.ts';
import { jobsList } from './scenarios/jobsList.ts';
import { sharedTabs } from './scenarios/sharedTabs.ts';
import { signIn } from './scenarios/signIn.ts';
import { streamTokenExpiry } from './scenarios/streamTokenExpiry.ts';

/**
 * The web page in real Chromium against the real server, and @statuscast/client's browser
 * scenarios (test/client/scenarios). One browser for the whole file (the machine runs one
 * Chromium at a time); every scenario starts its own server and opens fresh tabs. Without
 * Chromium, `launchChromium` throws and every test here fails.
 */
describe('web page in Chromium', () => {
  let chromium: Chromium | undefined;
  beforeAll(async () => {
    chromium = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await chromium?.close();
  });
  const context = () => {
    if (!chromium) throw new Error('Chromium did not start (see the beforeAll error above).');
    return chromium.context;
  };

  jobViewOverSignalR(context);
  jobViewOverSse(context);
  jobsList(context);
  signIn(context);
  streamTokenExpiry(context);
  jobViewOverAzureServerless(context);
  sharedTabs(context);
  reactHooks(context);
  plainScript(context);
});
