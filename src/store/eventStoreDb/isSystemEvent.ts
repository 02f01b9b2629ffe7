/**
 * EventStoreDB's own events (users, settings, statistics, projection links) have types
 * starting with `$`, the rule of the client's `excludeSystemEvents()` filter. statuscast never
 * writes such types, and their payloads are not JSON objects, so the adapter never surfaces them.
 */
export function isSystemEventType(type: string): boolean {
  return type.startsWith('$');
}
