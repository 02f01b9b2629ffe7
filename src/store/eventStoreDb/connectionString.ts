/**
 * `@eventstore/db-client` 6.2 parses only the `esdb://` and `esdb+discover://` schemes;
 * KurrentDB documents the same format as `kurrentdb://` (also `kurrent://`, `kdb://`).
 * Everything after the scheme is passed on untouched.
 */
export function toClientConnectionString(connectionString: string): string {
  return connectionString.replace(/^(?:kurrentdb|kurrent|kdb)(\+discover)?:\/\//i, (_match, discover: string | undefined) =>
    discover ? 'esdb+discover://' : 'esdb://',
  );
}
