import type { GlobalPosition } from './position.ts';

/**
 * Work that one node of a deployment does for all of them (publishing to Azure SignalR
 * Service), held by one node at a time, and where the next holder takes it up. When the
 * holder stops or dies, another node becomes the holder.
 */
export interface Lease {
  /**
   * Starts competing for the lease. `acquired` is called each time this node becomes the
   * holder, with the position the previous holder last saved (`null`: none yet); `lost` when
   * it stops being the holder (its connection failed, or `close`). Never both at once.
   */
  run(handlers: LeaseHandlers): void;
  /** Records how far the holder got, for the next one. Does nothing unless this node holds the lease. */
  savePosition(position: GlobalPosition): Promise<void>;
  /** Whether this node holds the lease now. */
  readonly held: boolean;
  /** Gives the lease up (calling `lost` first while still holding it) and stops competing. */
  close(): Promise<void>;
}

export interface LeaseHandlers {
  acquired(resumeAfter: GlobalPosition | null): Promise<void> | void;
  lost(): Promise<void> | void;
}
