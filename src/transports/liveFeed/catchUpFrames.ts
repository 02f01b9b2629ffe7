import type { JobCatchUp, LiveEvent } from './types.ts';

/**
 * A transport's bulk frame for a catch-up, built once for all the subscribers whose
 * catch-ups share one events array (see `JobTailCache`) and reused while the range is the same.
 */
export class CatchUpFrames<T> {
  readonly #frames = new WeakMap<readonly LiveEvent[], { readonly catchUp: JobCatchUp; readonly frame: T }>();

  constructor(private readonly build: (catchUp: JobCatchUp) => T) {}

  frameOf(catchUp: JobCatchUp): T {
    const memo = this.#frames.get(catchUp.events);
    if (memo !== undefined && memo.catchUp.fromRevision === catchUp.fromRevision && memo.catchUp.toRevision === catchUp.toRevision) {
      return memo.frame;
    }
    const frame = this.build(catchUp);
    this.#frames.set(catchUp.events, { catchUp, frame });
    return frame;
  }
}
