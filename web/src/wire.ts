/** What the page reads from the service besides what `@statuscast/client` covers. */

/** `GET /config.json`, served by the web router. */
export interface PageConfig {
  readonly auth_mode: 'dev' | 'jwks';
  /** True when `POST /dev/tokens` exists (dev mode only). */
  readonly dev_sign_in: boolean;
}
