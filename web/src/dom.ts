import type { JobState } from '@statuscast/client';

type Child = Node | string | null | undefined | false;
type Attributes = Readonly<Record<string, string | number | boolean | null | undefined>>;

/**
 * Creates an element. Attributes are set with `setAttribute` (`true` → present, `false`/
 * `null`/`undefined` → absent) and text children become text nodes, so nothing the
 * service sends is ever parsed as HTML.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes?: Attributes | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}

const STATE_ICONS: Record<JobState, string> = {
  queued: '○',
  running: '◐',
  succeeded: '✓',
  failed: '✕',
  cancelled: '⊘',
};

/** A state badge: icon (hidden from screen readers) plus the state in words. */
export function stateBadge(state: JobState | null, extraClass = ''): HTMLSpanElement {
  const name = state ?? 'unknown';
  return h(
    'span',
    { class: `badge state-${name} ${extraClass}`.trim() },
    h('span', { class: 'badge-icon', 'aria-hidden': 'true' }, state ? STATE_ICONS[state] : '·'),
    name,
  );
}

/** A progress bar: a value in [0, 1], `'indeterminate'`, with the percentage as its text. */
export function setProgress(bar: HTMLProgressElement, value: number | 'indeterminate'): void {
  if (value === 'indeterminate') {
    bar.removeAttribute('value');
    bar.textContent = 'in progress';
  } else {
    bar.value = Math.min(1, Math.max(0, value));
    bar.textContent = `${Math.round(bar.value * 100)}%`;
  }
}

/** Polite screen-reader announcements through one `aria-live` region. */
export function createAnnouncer(region: HTMLElement): (text: string) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (text) => {
    clearTimeout(timer);
    // Clearing first makes a repeated message count as a change.
    region.textContent = '';
    timer = setTimeout(() => (region.textContent = text), 50);
  };
}
