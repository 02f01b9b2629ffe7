/** `{"a":{"a":…{}…}}`, `depth` levels deep, written without recursion (JSON.stringify would overflow). */
export function nestedObjectJson(depth: number): string {
  return `${'{"a":'.repeat(depth)}{}${'}'.repeat(depth)}`;
}
