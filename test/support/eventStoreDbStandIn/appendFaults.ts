/**
 * Append failures a test arranges for one stream. The server answers a commit it could not
 * confirm in time with `Timeout` (KurrentDB `StreamsService.BatchAppend` maps
 * `OperationResult.CommitTimeout` / `PrepareTimeout` / `ForwardTimeout` to
 * `event_store.client.Timeout`; the client turns that into `DeadlineExceededError`). Such a
 * commit may or may not have been written: `written` says which of the two the test plays.
 */
export interface AppendFault {
  /** Whether the events were written before the answer was lost. Defaults to false. */
  readonly written?: boolean;
}

export class AppendFaults {
  readonly #byStream = new Map<string, AppendFault[]>();

  add(stream: string, fault: AppendFault): void {
    const queue = this.#byStream.get(stream) ?? [];
    queue.push(fault);
    this.#byStream.set(stream, queue);
  }

  /** The fault for the next append to `stream`, if one was arranged; it is used up. */
  take(stream: string): AppendFault | undefined {
    const queue = this.#byStream.get(stream);
    const fault = queue?.shift();
    if (queue && queue.length === 0) this.#byStream.delete(stream);
    return fault;
  }
}
