/** One log method: an object of fields and a message, or a message alone (pino's calling convention). */
export type HubLogMethod = (fieldsOrMessage: object | string, message?: string) => void;

/**
 * Where the hub server writes its diagnostics: pino's shape, so a pino logger fits as is.
 * It never logs a token or a URL with its query string. Defaults to no logging.
 */
export interface HubLogger {
  debug: HubLogMethod;
  info: HubLogMethod;
  warn: HubLogMethod;
  error: HubLogMethod;
  /** A logger that adds `bindings` (e.g. the connection id) to every line. */
  child(bindings: Record<string, unknown>): HubLogger;
}

const ignore: HubLogMethod = () => {};

/** Logs nothing. */
export const silentLogger: HubLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore, child: () => silentLogger };
