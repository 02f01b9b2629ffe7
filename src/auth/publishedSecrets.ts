/**
 * Stream-token secrets that were ever written in this repository (docker-compose used to
 * default to the first). Anyone can read them, so a deployment using one signs tokens that
 * anyone can forge; the service refuses to start with them. `test/security/` fails when a
 * new literal secret appears in the repository without being listed here.
 */
export const PUBLISHED_STREAM_TOKEN_SECRETS: ReadonlySet<string> = new Set([
  'dev-only-stream-token-secret-change-me-0123456789',
]);
