import { createApi, errorText } from './api.ts';
import { createAnnouncer, h } from './dom.ts';
import { showJobView } from './jobView.ts';
import { showJobsView } from './jobsView.ts';
import { currentUser, signOut } from './session.ts';
import { showSignIn } from './signInView.ts';
import type { View, ViewContext } from './view.ts';
import type { PageConfig } from './wire.ts';

/**
 * The page shell: reads `/config.json`, shows the account bar, and routes `/` to the jobs
 * list and `/job/<id>` to the job view (plain links, one document per view).
 */
const root = document.getElementById('main')!;
const account = document.getElementById('account')!;
const announce = createAnnouncer(document.getElementById('announcer')!);
const api = createApi();
let view: View | null = null;

async function boot(): Promise<void> {
  let config: PageConfig;
  try {
    config = await api.config();
  } catch (error) {
    root.replaceChildren(h('section', { class: 'notice', role: 'alert' }, h('h1', null, 'statuscast is unreachable'), h('p', null, errorText(error))));
    return;
  }
  render(config);
}

function render(config: PageConfig, message?: string, focus = false): void {
  view?.dispose();
  view = null;
  const user = currentUser();
  renderAccount(config);
  const ctx: ViewContext = {
    api,
    token: () => currentUser()?.token ?? null,
    root,
    announce,
    signInAgain(text) {
      signOut();
      render(config, text, true);
    },
  };
  if (!user) {
    view = showSignIn(ctx, config, message, () => render(config, undefined, true));
    return;
  }
  const jobMatch = /^\/job\/([^/]+)\/?$/.exec(location.pathname);
  if (location.pathname === '/') {
    view = showJobsView(ctx, { seesAll: user.roles.includes('admin') || user.roles.includes('auditor') });
  } else if (jobMatch) {
    const forceSse = new URLSearchParams(location.search).get('transport') === 'sse';
    view = showJobView(ctx, decodeURIComponent(jobMatch[1]!), { forceSse });
  } else {
    root.replaceChildren(h('section', { class: 'notice' }, h('h1', null, 'Page not found'), h('p', null, h('a', { href: '/' }, '← All jobs'))));
  }
  if (focus) root.querySelector<HTMLElement>('h1')?.focus();
}

function renderAccount(config: PageConfig): void {
  const user = currentUser();
  if (!user) {
    account.replaceChildren();
    return;
  }
  const out = h('button', { type: 'button', class: 'button link-button', id: 'sign-out' }, 'Sign out');
  out.addEventListener('click', () => {
    signOut();
    render(config, 'You are signed out.', true);
  });
  account.replaceChildren(
    h('span', { class: 'who' }, 'Signed in as ', h('strong', { id: 'who' }, user.sub), user.roles.length ? ` (${user.roles.join(', ')})` : ''),
    out,
  );
}

void boot();
