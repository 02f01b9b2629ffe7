import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../src/config.ts';
import {
  AzureSignalRConfigError,
  parseAzureSignalRConnectionString,
} from '../../../../src/transports/signalr/azure/connectionString.ts';

const KEY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq=';

function failure(text: string): AzureSignalRConfigError {
  try {
    parseAzureSignalRConnectionString(text);
  } catch (error) {
    expect(error).toBeInstanceOf(AzureSignalRConfigError);
    expect(error).toBeInstanceOf(ConfigError);
    return error as AzureSignalRConfigError;
  }
  throw new Error(`"${text}" was accepted`);
}

describe('Azure SignalR connection string', () => {
  it('parses the documented form; the key is kept exactly as written, "=" padding included', () => {
    const parsed = parseAzureSignalRConnectionString(`Endpoint=https://contoso.service.signalr.net;AccessKey=${KEY};Version=1.0;`);
    expect(parsed).toEqual({
      endpoint: 'https://contoso.service.signalr.net',
      serverEndpoint: 'https://contoso.service.signalr.net',
      clientEndpoint: 'https://contoso.service.signalr.net',
      audienceBase: 'https://contoso.service.signalr.net',
      accessKey: KEY,
      version: '1.0',
    });
  });

  it('takes keys in any case and any order, trims spaces, skips empty parts and drops trailing slashes', () => {
    const parsed = parseAzureSignalRConnectionString(` version = 1.0 ;; ACCESSKEY= ${KEY} ; endpoint=https://Contoso.service.signalr.net/// ;`);
    expect(parsed.endpoint).toBe('https://contoso.service.signalr.net');
    expect(parsed.accessKey).toBe(KEY);
    expect(parsed.version).toBe('1.0');
  });

  it('accepts no Version and any 1.x, and refuses other versions', () => {
    expect(parseAzureSignalRConnectionString(`Endpoint=https://a.service.signalr.net;AccessKey=k`).version).toBeUndefined();
    expect(parseAzureSignalRConnectionString(`Endpoint=https://a.service.signalr.net;AccessKey=k;Version=1.1-preview`).version).toBe('1.1-preview');
    expect(failure(`Endpoint=https://a.service.signalr.net;AccessKey=k;Version=2.0`).message).toMatch(/Version 2\.0 is not supported \(only 1\.x\)/);
    expect(failure(`Endpoint=https://a.service.signalr.net;AccessKey=k;Version=1`).message).toMatch(/Version 1 is not supported/);
  });

  it('applies Port to the REST and client URLs but never to the audience base', () => {
    const parsed = parseAzureSignalRConnectionString(`Endpoint=https://a.service.signalr.net;Port=8443;AccessKey=k;Version=1.0`);
    expect(parsed.endpoint).toBe('https://a.service.signalr.net:8443');
    expect(parsed.serverEndpoint).toBe('https://a.service.signalr.net:8443');
    expect(parsed.clientEndpoint).toBe('https://a.service.signalr.net:8443');
    expect(parsed.audienceBase).toBe('https://a.service.signalr.net');
    // A port written into Endpoint is left out of the audience too.
    expect(parseAzureSignalRConnectionString(`Endpoint=http://127.0.0.1:8080;AccessKey=k`).audienceBase).toBe('http://127.0.0.1');
    for (const port of ['0', '65536', 'abc', '-1', '80.5']) {
      expect(failure(`Endpoint=https://a.service.signalr.net;Port=${port};AccessKey=k`).message).toMatch(/Port must be an integer from 1 to 65535/);
    }
  });

  it('uses ClientEndpoint for the client URL and ServerEndpoint for REST; the audience stays on Endpoint', () => {
    const parsed = parseAzureSignalRConnectionString(
      'Endpoint=https://a.service.signalr.net;ClientEndpoint=https://signalr.example.com/;ServerEndpoint=https://private.a.service.signalr.net:444;AccessKey=k;Version=1.0',
    );
    expect(parsed.clientEndpoint).toBe('https://signalr.example.com');
    expect(parsed.serverEndpoint).toBe('https://private.a.service.signalr.net:444');
    expect(parsed.audienceBase).toBe('https://a.service.signalr.net');
    expect(failure('Endpoint=https://a.service.signalr.net;ClientEndpoint=ftp://x;AccessKey=k').message).toMatch(/ClientEndpoint must be an http/);
  });

  it('refuses Microsoft Entra ID strings with a clear error', () => {
    expect(failure('Endpoint=https://a.service.signalr.net;AuthType=azure.msi;Version=1.0;').message).toMatch(
      /AuthType=azure\.msi is a Microsoft Entra ID connection string, which is not supported; use one with AccessKey/,
    );
    expect(failure('Endpoint=https://a.service.signalr.net;AuthType=aad;ClientId=x;ClientSecret=y;TenantId=z;Version=1.0;').message).toMatch(/Entra ID/);
    expect(failure('Endpoint=https://a.service.signalr.net;Version=1.0;').message).toMatch(/AccessKey is missing \(Microsoft Entra ID connection strings are not supported/);
    expect(failure('Endpoint=https://a.service.signalr.net;AccessKey=;Version=1.0;').message).toMatch(/AccessKey is missing/);
  });

  it('refuses a missing or malformed Endpoint, duplicate keys and fragments that are not key=value', () => {
    expect(failure('AccessKey=k;Version=1.0').message).toMatch(/Endpoint is missing/);
    expect(failure('Endpoint=contoso.service.signalr.net;AccessKey=k').message).toMatch(/Endpoint must be an http:\/\/ or https:\/\/ URL/);
    expect(failure('Endpoint=wss://contoso.service.signalr.net;AccessKey=k').message).toMatch(/Endpoint must be an http/);
    expect(failure('Endpoint=https://contoso.service.signalr.net/api;AccessKey=k').message).toMatch(/without a path or query/);
    expect(failure('Endpoint=https://a.service.signalr.net;endpoint=https://b.service.signalr.net;AccessKey=k').message).toMatch(/endpoint is given twice/);
    expect(failure(`Endpoint=https://a.service.signalr.net;AccessKey=${KEY};${KEY.slice(0, 10)}`).message).toMatch(/part 3 is not a key=value pair/);
  });

  it('never puts the access key into an error message', () => {
    const secret = 'S3cr3tK3yThatMustNeverBeLogged0123456789+/=';
    const texts = [
      `Endpoint=https://a.service.signalr.net;AccessKey=${secret};Version=3.0`,
      `Endpoint=nope;AccessKey=${secret}`,
      `Endpoint=https://a.service.signalr.net;AccessKey=${secret};AccessKey=${secret}`,
      `Endpoint=https://a.service.signalr.net;AccessKey=${secret};${secret.replaceAll('=', '')}`,
      `Endpoint=https://a.service.signalr.net;AccessKey=${secret};Port=x`,
    ];
    for (const text of texts) expect(failure(text).message).not.toContain(secret.slice(0, 12));
  });
});
