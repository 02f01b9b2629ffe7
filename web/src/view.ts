import type { Api } from './api.ts';
import { h } from './dom.ts';
import type { LinkState } from './streamLink.ts';

/** What every view gets from the page shell. */
export interface ViewContext {
  readonly api: Api;
  /** The `<main>` element the view renders into. */
  readonly root: HTMLElement;
  announce(text: string): void;
  /** The user's token was refused: forget it and show the sign-in form with `message`. */
  signInAgain(message: string): void;
}

/** A rendered view; `dispose` stops its streams and timers. */
export interface View {
  dispose(): void;
}

/**
 * The live-connection indicator and the disconnected banner (with its Retry button),
 * shared by the jobs list and the job view.
 */
export function createLinkIndicator(onRetry: () => void): {
  readonly indicator: HTMLElement;
  readonly banner: HTMLElement;
  show(state: LinkState): void;
} {
  const label = h('span', { class: 'link-label' }, 'Connecting…');
  const indicator = h('p', { class: 'link', id: 'link', 'data-status': 'connecting' }, h('span', { class: 'link-dot', 'aria-hidden': 'true' }), label);
  const bannerText = h('span', { class: 'banner-text' });
  const retry = h('button', { type: 'button', class: 'button', id: 'retry' }, 'Retry now');
  retry.addEventListener('click', onRetry);
  // role=alert on a persistent element: screen readers read each new text at once.
  const banner = h('div', { class: 'banner', id: 'banner', role: 'alert', hidden: true }, bannerText, retry);

  function show(state: LinkState): void {
    indicator.dataset['status'] = state.status;
    indicator.dataset['transport'] = state.transport;
    switch (state.status) {
      case 'connecting':
        label.textContent = `Connecting (${state.transport})…`;
        break;
      case 'live':
        label.textContent = `Live · ${state.transport}${state.note ? ` (${state.note})` : ''}`;
        break;
      case 'renewing':
        label.textContent = `Live · ${state.transport} · renewing access…`;
        break;
      case 'reconnecting':
        label.textContent = `Reconnecting (${state.transport})…`;
        bannerText.textContent =
          `Connection lost. Reconnecting${state.retryInMs >= 1000 ? ` in ${Math.round(state.retryInMs / 1000)} s` : ''}` +
          ` (attempt ${state.attempt}). What is shown may be out of date.`;
        break;
      case 'disconnected':
        label.textContent = `Disconnected (${state.transport})`;
        bannerText.textContent = `Live updates stopped: ${state.reason} What is shown may be out of date.`;
        break;
      default: {
        const never: never = state;
        throw new Error(`unknown link state ${JSON.stringify(never)}`);
      }
    }
    banner.hidden = state.status !== 'reconnecting' && state.status !== 'disconnected';
  }

  return { indicator, banner, show };
}
