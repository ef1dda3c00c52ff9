import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../functions/lib/config.js';
import { ownOrigins, readLocalConfig } from '../../../local/local-config.js';

describe('readLocalConfig', () => {
  it('runs everything embedded on loopback with the documented defaults', () => {
    const config = readLocalConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 3000,
      dataDir: resolve('.data'),
      maintenanceIntervalMs: 60_000,
      corsOrigins: [],
      createMissing: false,
      allowEmbeddedS3Provider: false,
      auth: { kind: 'dev', secret: 'local-dev-secret' },
      s3: { kind: 'embedded', port: 4569 },
      dynamo: { kind: 'embedded', port: 8000, inMemory: false },
    });
    expect(config.service).toMatchObject({
      tableName: 'stowage',
      uploadsBucket: 'stowage-uploads',
      previewBucket: 'stowage-previews',
      secrets: { kind: 'local-file', dataDir: resolve('.data') },
    });
  });

  it('reads every variable of the README table', () => {
    const config = readLocalConfig({
      FILESTORE_HOST: '::1',
      PORT: '8080',
      FILESTORE_DATA_DIR: '/var/lib/stowage',
      FILESTORE_MAINTENANCE_INTERVAL_MS: '0',
      FILESTORE_CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
      FILESTORE_CREATE_MISSING: 'true',
      FILESTORE_ALLOW_EMBEDDED_S3_PROVIDER: 'true',
      FILESTORE_DYNAMODB_IN_MEMORY: 'yes',
      S3_PORT: '9000',
      DYNAMODB_PORT: '9001',
      JWT_TENANT_CLAIM: 'custom:tenant_id',
      TABLE_NAME: 'files',
      S3_BUCKET: 'my-uploads',
      PREVIEW_BUCKET: 'my-previews',
    });
    expect(config).toMatchObject({
      host: '::1',
      port: 8080,
      dataDir: '/var/lib/stowage',
      maintenanceIntervalMs: 0,
      corsOrigins: ['https://app.example.com', 'http://localhost:5173'],
      createMissing: true,
      allowEmbeddedS3Provider: true,
      s3: { kind: 'embedded', port: 9000 },
      dynamo: { kind: 'embedded', port: 9001, inMemory: true },
    });
    expect(config.service).toMatchObject({
      tableName: 'files',
      uploadsBucket: 'my-uploads',
      previewBucket: 'my-previews',
      jwt: { tenantClaim: 'custom:tenant_id' },
      secrets: { dataDir: '/var/lib/stowage' },
    });
  });

  it('names external servers and real identity providers', () => {
    const config = readLocalConfig({
      S3_ENDPOINT: 'http://minio:9000',
      S3_ACCESS_KEY_ID: 'minio',
      S3_SECRET_ACCESS_KEY: 'minio-secret',
      DYNAMODB_ENDPOINT: 'http://dynamodb:8000',
      JWT_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json',
      JWT_ISSUER: 'https://idp.example.com/',
      JWT_AUDIENCE: 'stowage',
      UPLOADS_BUCKET: 'explicit-uploads',
      S3_BUCKET: 'ignored-when-uploads-bucket-is-set',
    });
    expect(config.s3).toEqual({ kind: 'external' });
    expect(config.dynamo).toEqual({ kind: 'external' });
    expect(config.auth).toEqual({
      kind: 'jwks',
      jwksUrl: 'https://idp.example.com/.well-known/jwks.json',
      issuer: 'https://idp.example.com/',
      audience: 'stowage',
    });
    expect(config.service.s3).toMatchObject({
      endpoint: 'http://minio:9000',
      forcePathStyle: true,
      credentials: { accessKeyId: 'minio', secretAccessKey: 'minio-secret' },
    });
    expect(config.service.dynamo.endpoint).toBe('http://dynamodb:8000');
    expect(config.service.uploadsBucket).toBe('explicit-uploads');
  });

  it('takes HOST when FILESTORE_HOST is unset, FILESTORE_HOST first otherwise', () => {
    expect(readLocalConfig({ HOST: '0.0.0.0', FILESTORE_DEV_JWT_SECRET: 'our-own-secret' }).host).toBe(
      '0.0.0.0',
    );
    expect(readLocalConfig({ HOST: '0.0.0.0', FILESTORE_HOST: '127.0.0.1' }).host).toBe('127.0.0.1');
  });

  const refused: [string, Record<string, string>, RegExp][] = [
    // A shell's HOST=my-laptop must not put the stack on the network.
    ['a host name in HOST', { HOST: 'my-laptop' }, /HOST must be an IP address.*"my-laptop"/],
    ['a port out of range', { PORT: '70000' }, /PORT must be an integer from 0 to 65535/],
    ['a port that is not a number', { DYNAMODB_PORT: '80a' }, /DYNAMODB_PORT must be an integer/],
    ['a negative interval', { FILESTORE_MAINTENANCE_INTERVAL_MS: '-1' }, /FILESTORE_MAINTENANCE_INTERVAL_MS/],
    ['"*" as an origin', { FILESTORE_CORS_ORIGINS: '*' }, /FILESTORE_CORS_ORIGINS must list origins.*"\*"/],
    [
      'an origin with a path',
      { FILESTORE_CORS_ORIGINS: 'http://localhost:5173/app' },
      /FILESTORE_CORS_ORIGINS.*"http:\/\/localhost:5173\/app"/,
    ],
    [
      'an origin with a trailing slash',
      { FILESTORE_CORS_ORIGINS: 'https://a.example/' },
      /FILESTORE_CORS_ORIGINS/,
    ],
    ['a non-http origin', { FILESTORE_CORS_ORIGINS: 'file://x' }, /FILESTORE_CORS_ORIGINS/],
    [
      'a flag that is not a boolean',
      { FILESTORE_CREATE_MISSING: 'maybe' },
      /FILESTORE_CREATE_MISSING must be true or false/,
    ],
    [
      'JWT_JWKS_URL without JWT_ISSUER',
      { JWT_JWKS_URL: 'https://idp.example.com/jwks' },
      /JWT_ISSUER is required/,
    ],
    ['a JWKS URL that is not one', { JWT_JWKS_URL: 'idp', JWT_ISSUER: 'x' }, /JWT_JWKS_URL must be a URL/],
    ['half an S3 key pair', { S3_ENDPOINT: 'http://m:9000', S3_ACCESS_KEY_ID: 'a' }, /S3_SECRET_ACCESS_KEY/],
  ];
  it.each(refused)('fails fast, naming the variable, on %s', (_what, env, message) => {
    expect(() => readLocalConfig(env)).toThrow(ConfigError);
    expect(() => readLocalConfig(env)).toThrow(message);
  });
});

describe('ownOrigins', () => {
  it('is what a browser on this machine sends as Origin for the API', () => {
    expect(ownOrigins('127.0.0.1', 3000)).toEqual(['http://127.0.0.1:3000', 'http://localhost:3000']);
    expect(ownOrigins('0.0.0.0', 3000)).toEqual(['http://127.0.0.1:3000', 'http://localhost:3000']);
    expect(ownOrigins('192.168.1.20', 80)).toEqual([
      'http://127.0.0.1',
      'http://localhost',
      'http://192.168.1.20',
    ]);
    expect(ownOrigins('::1', 3000)).toContain('http://[::1]:3000');
  });
});
