import type { ConnectionState } from '@statuscast/client';
import type { Api } from './api.ts';
import { h } from './dom.ts';

/** What every view gets from the page shell. */
export interface ViewContext {
  readonly api: Api;
  /** The signed-in user's token, for `@statuscast/client` (`null` once signed out). */
  readonly token: () => string | null;
  /** The `<main>` element the view renders into. */
  readonly root: HTMLElement;
  announce(text: string): void;
  /** The user's token was refused: forget it and show the sign-in form with `message`. */
  signInAgain(message: string): void;
}

/** A rendered view; `dispose` stops its followers and timers. */
export interface View {
  dispose(): void;
}

const SIGNALR_TRANSPORTS: Record<string, string> = {
  websockets: 'SignalR · WebSockets',
  'server-sent-events': 'SignalR · ServerSentEvents',
  'long-polling': 'SignalR · LongPolling',
  sse: 'SSE',
};

/** The transport in words: `SignalR · WebSockets`, `SSE`, … (`forcedSse`: before the first connection). */
export function transportLabel(state: ConnectionState, forcedSse = false): string {
  if (state.transport === null) return forcedSse ? 'SSE' : 'SignalR';
  return SIGNALR_TRANSPORTS[state.transport] ?? state.transport;
}

/**
 * The live-connection indicator and the outage banner (with its Retry button), shared by
 * the jobs list and the job view. Driven by a follower's `connection` state.
 */
export function createLinkIndicator(onRetry: () => void): {
  readonly indicator: HTMLElement;
  readonly banner: HTMLElement;
  show(state: ConnectionState, options?: { readonly forcedSse?: boolean }): void;
} {
  const label = h('span', { class: 'link-label' }, 'Connecting…');
  const indicator = h('p', { class: 'link', id: 'link', 'data-status': 'connecting' }, h('span', { class: 'link-dot', 'aria-hidden': 'true' }), label);
  const bannerText = h('span', { class: 'banner-text' });
  const retry = h('button', { type: 'button', class: 'button', id: 'retry' }, 'Retry now');
  retry.addEventListener('click', onRetry);
  // role=alert on a persistent element: screen readers read each new text at once.
  const banner = h('div', { class: 'banner', id: 'banner', role: 'alert', hidden: true }, bannerText, retry);

  function show(state: ConnectionState, options: { readonly forcedSse?: boolean } = {}): void {
    const transport = transportLabel(state, options.forcedSse);
    indicator.dataset['status'] = state.status;
    indicator.dataset['transport'] = transport;
    indicator.dataset['role'] = state.role;
    const note = options.forcedSse ? 'forced by ?transport=sse' : state.fallback ? 'SignalR unavailable' : null;
    const shared = state.role === 'follower' ? ' · via another tab' : '';
    switch (state.status) {
      case 'connecting':
        label.textContent = `Connecting (${transport})…`;
        break;
      case 'live':
        label.textContent = `Live · ${transport}${note ? ` (${note})` : ''}${shared}`;
        break;
      case 'reconnecting': {
        const seconds = state.nextRetryAt === null ? 0 : Math.round((state.nextRetryAt - Date.now()) / 1000);
        label.textContent = `Reconnecting (${transport})…`;
        bannerText.textContent =
          `Connection lost. Reconnecting${seconds >= 1 ? ` in ${seconds} s` : ''} (attempt ${state.attempt}).` +
          ' What is shown may be out of date.';
        break;
      }
      case 'offline':
        label.textContent = `Disconnected (${transport})`;
        bannerText.textContent = `Live updates stopped: ${state.error?.message ?? 'the connection closed'}. What is shown may be out of date.`;
        break;
      default: {
        const never: never = state.status;
        throw new Error(`unknown connection status ${String(never)}`);
      }
    }
    banner.hidden = state.status !== 'reconnecting' && state.status !== 'offline';
  }

  return { indicator, banner, show };
}
