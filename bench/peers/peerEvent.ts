/**
 * One append as the peers receive it from the publisher: the same JSON texts statuscast's
 * hub sends as the `timeline.event` and `status.latest` arguments, so every system moves the
 * same payload. `seq` plays the role of the revision (1, 2, 3, … per room).
 */
export interface PeerEvent {
  readonly room: string;
  readonly seq: number;
  readonly timelineEvent: string;
  readonly statusLatest: string;
}

/** The frame statuscast's hub writes for a live event: two invocations, record-separated. */
export function signalrStyleFrame(event: PeerEvent): string {
  return (
    `{"type":1,"target":"timeline.event","arguments":[${event.timelineEvent}]}\u001e` +
    `{"type":1,"target":"status.latest","arguments":[${event.statusLatest}]}\u001e`
  );
}
