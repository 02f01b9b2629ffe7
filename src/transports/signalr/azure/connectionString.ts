import { ConfigError } from '../../../config.ts';

/**
 * An Azure SignalR Service connection string, parsed (protocol doc §11.1). Every URL here is
 * without a trailing `/`.
 */
export interface AzureSignalRConnection {
  /** `Endpoint` with `Port` applied, e.g. `https://contoso.service.signalr.net`. */
  readonly endpoint: string;
  /** Base of REST calls: `ServerEndpoint` when given, else `endpoint`. */
  readonly serverEndpoint: string;
  /** Base of the URL handed to clients: `ClientEndpoint` when given, else `endpoint`. */
  readonly clientEndpoint: string;
  /**
   * Base of every token's `aud`: scheme and host of `Endpoint`, never a port, whatever
   * `Port`, `ClientEndpoint` or `ServerEndpoint` say (what the SDK signs).
   */
  readonly audienceBase: string;
  /** The HMAC key, exactly as written (its UTF-8 bytes sign tokens; never base64-decoded). */
  readonly accessKey: string;
  /** `Version` when given (always 1.x). */
  readonly version: string | undefined;
}

/** A connection string the service cannot be used with. The message never contains the key. */
export class AzureSignalRConfigError extends ConfigError {}

/** What the SDK accepts for `Version`: 1.x only. */
const SUPPORTED_VERSION = /^1\.\d+(?:[\w\-.]+)?$/;

/**
 * Parses `Endpoint=https://….service.signalr.net;AccessKey=…;Version=1.0;` the way the
 * official SDK does: `;`-separated `key=value` pairs split at the first `=` (keys are
 * case-insensitive and trimmed, values trimmed, empty pairs skipped, a key given twice is an
 * error); `Endpoint` required (http or https, trailing `/` removed, no path or query);
 * optional `Port` (1–65535, applied to `Endpoint`), `ClientEndpoint`, `ServerEndpoint`;
 * `Version` must be 1.x. Microsoft Entra ID strings (`AuthType=…`, or no `AccessKey`) are
 * rejected: they need Entra tokens, which statuscast does not obtain.
 *
 * @throws AzureSignalRConfigError naming the problem (never echoing the key).
 */
export function parseAzureSignalRConnectionString(text: string): AzureSignalRConnection {
  const properties = new Map<string, string>();
  for (const [index, part] of text.split(';').entries()) {
    if (part.trim() === '') continue;
    const separator = part.indexOf('=');
    // Not echoed: a stray fragment may well be a piece of the key.
    if (separator < 0) throw fail(`part ${index + 1} is not a key=value pair`);
    const key = part.slice(0, separator).trim().toLowerCase();
    if (properties.has(key)) throw fail(`${key} is given twice`);
    properties.set(key, part.slice(separator + 1).trim());
  }

  const authType = properties.get('authtype');
  if (authType !== undefined) {
    throw fail(`AuthType=${authType} is a Microsoft Entra ID connection string, which is not supported; use one with AccessKey`);
  }
  const accessKey = properties.get('accesskey');
  if (accessKey === undefined || accessKey === '') {
    throw fail('AccessKey is missing (Microsoft Entra ID connection strings are not supported; use one with AccessKey)');
  }

  const endpointText = properties.get('endpoint');
  if (endpointText === undefined || endpointText === '') throw fail('Endpoint is missing');
  const endpointUrl = httpUrl(trimSlashes(endpointText), 'Endpoint');
  if (endpointUrl.pathname !== '/' || endpointUrl.search !== '' || endpointUrl.hash !== '') {
    throw fail(`Endpoint must be scheme://host[:port] without a path or query, got "${endpointText}"`);
  }

  const version = properties.get('version');
  if (version !== undefined && !SUPPORTED_VERSION.test(version)) throw fail(`Version ${version} is not supported (only 1.x)`);

  const port = properties.get('port');
  if (port !== undefined) {
    const number = Number(port);
    if (!/^\d+$/.test(port) || number < 1 || number > 65_535) throw fail(`Port must be an integer from 1 to 65535, got "${port}"`);
    endpointUrl.port = port;
  }

  const endpoint = trimSlashes(endpointUrl.origin);
  const clientEndpoint = optionalEndpoint(properties.get('clientendpoint'), 'ClientEndpoint') ?? endpoint;
  const serverEndpoint = optionalEndpoint(properties.get('serverendpoint'), 'ServerEndpoint') ?? endpoint;
  return {
    endpoint,
    serverEndpoint,
    clientEndpoint,
    audienceBase: `${endpointUrl.protocol}//${endpointUrl.hostname}`,
    accessKey,
    version,
  };
}

function optionalEndpoint(text: string | undefined, name: string): string | undefined {
  if (text === undefined || text === '') return undefined;
  const url = httpUrl(text, name);
  if (url.search !== '' || url.hash !== '') throw fail(`${name} must not have a query, got "${text}"`);
  return trimSlashes(url.href);
}

function httpUrl(text: string, name: string): URL {
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') {
    throw fail(`${name} must be an http:// or https:// URL, got "${text}"`);
  }
  return url;
}

function trimSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}

function fail(problem: string): AzureSignalRConfigError {
  return new AzureSignalRConfigError(`invalid configuration: AZURE_SIGNALR_CONNECTION_STRING: ${problem}`);
}
