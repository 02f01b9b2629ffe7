/** Small formatters shared by the views; no DOM. */

/** `14:03:07` in the reader's time zone; the full ISO time goes into `<time datetime>`. */
export function formatClock(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

/** `just now`, `42 s ago`, `3 min ago`, `5 h ago`, `2 d ago`. */
export function formatAge(iso: string, nowMs: number): string {
  const then = new Date(iso).getTime();
  if (Number.isNaN(then)) return '';
  const seconds = Math.max(0, Math.round((nowMs - then) / 1000));
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

/** `30%`, or `''` for no progress. */
export function formatPercent(progress: number | null | undefined): string {
  return progress === null || progress === undefined ? '' : `${Math.round(progress * 100)}%`;
}

/** `cycle 2 / 3`, `cycle 2`, or `''`. */
export function formatCycle(cycle: number | null | undefined, expected: number | null | undefined): string {
  if (cycle === null || cycle === undefined) return '';
  return expected ? `cycle ${cycle} / ${expected}` : `cycle ${cycle}`;
}
