/** Timeline revisions an SSE connection delivered, in arrival order (bulk entries, then live events). */
export function sseRevisions(events: readonly { event: string; data: string }[]): number[] {
  return events.flatMap((e) => {
    if (e.event === 'timeline.event') return [JSON.parse(e.data).event.revision as number];
    if (e.event === 'timeline.bulk') return (JSON.parse(e.data).events as { revision: number }[]).map((x) => x.revision);
    return [];
  });
}

/** `[1, …, n]`. */
export const oneTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `job@revision` of every live `timeline.event` a connection delivered, in arrival order. */
export function sseFeedEntries(events: readonly { event: string; data: string }[]): string[] {
  return events.flatMap((e) => {
    if (e.event !== 'timeline.event') return [];
    const data = JSON.parse(e.data) as { job_id: string; event: { revision: number } };
    return [`${data.job_id}@${data.event.revision}`];
  });
}

/** `[from, …, to]`. */
export const fromTo = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
