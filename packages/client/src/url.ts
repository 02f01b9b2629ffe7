/** Sets `name=value` in a URL's query (replacing an earlier value), keeping the rest. */
export function withQuery(url: string, name: string, value: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set(name, value);
  return parsed.toString();
}
