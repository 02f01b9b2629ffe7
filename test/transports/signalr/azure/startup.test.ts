import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../../src/config.ts';
import { startServer } from '../../../../src/server.ts';
import { makeTempDir } from '../../../support/tempDir.ts';

describe('starting with AZURE_SIGNALR_CONNECTION_STRING', () => {
  it('refuses a connection string the service cannot use before opening anything', async () => {
    const dir = makeTempDir('azure-startup');
    const dataDir = join(dir.path, 'data');
    try {
      const config = loadConfig({
        DATA_DIR: dataDir,
        PORT: '0',
        LOG_LEVEL: 'silent',
        AZURE_SIGNALR_CONNECTION_STRING: 'Endpoint=https://contoso.service.signalr.net;AccessKey=abc;Version=2.0;',
      });
      const failure = await startServer(config).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(ConfigError);
      expect((failure as Error).message).toBe('invalid configuration: AZURE_SIGNALR_CONNECTION_STRING: Version 2.0 is not supported (only 1.x)');
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      dir.remove();
    }
  });

  it('an Entra ID connection string (no AccessKey) is already refused when the configuration loads', () => {
    expect(() =>
      loadConfig({ AZURE_SIGNALR_CONNECTION_STRING: 'Endpoint=https://contoso.service.signalr.net;AuthType=azure.msi;Version=1.0;' }),
    ).toThrow(ConfigError);
  });
});
