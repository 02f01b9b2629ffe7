import type { AllSubscriptionItem } from '../../src/store/eventStore.ts';

/** The event types among subscription items, in order. */
export function eventTypes(items: readonly AllSubscriptionItem[]): string[] {
  return items.flatMap((i) => (i.kind === 'event' ? [i.event.type] : []));
}

/** Drains a subscription in the background; `until` waits for a condition on what arrived. */
export function readItems(subscription: AsyncIterable<AllSubscriptionItem>) {
  const items: AllSubscriptionItem[] = [];
  const listeners = new Set<() => void>();
  const done = (async () => {
    for await (const item of subscription) {
      items.push(item);
      for (const listener of listeners) listener();
    }
  })();
  // A test that ends the subscription by breaking the server still inspects `done` itself.
  done.catch(() => undefined);
  return {
    items,
    done,
    until(condition: (items: readonly AllSubscriptionItem[]) => boolean, timeoutMs = 10_000) {
      return new Promise<AllSubscriptionItem[]>((resolve, reject) => {
        const check = () => {
          if (condition(items)) {
            clearTimeout(timer);
            listeners.delete(check);
            resolve([...items]);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out; got ${JSON.stringify(eventTypes(items))}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}
