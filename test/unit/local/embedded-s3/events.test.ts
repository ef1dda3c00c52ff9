import { describe, expect, it } from 'vitest';
import { encodeEventKey, objectCreatedRecord } from '../../../../local/embedded-s3/events.js';

describe('S3 event records', () => {
  it.each([
    ['tenants/a/b/c', 'tenants/a/b/c'],
    ['a file.txt', 'a+file.txt'],
    ["é(1)!~'", '%C3%A9%281%29%21%7E%27'],
    ['a+b&c=d', 'a%2Bb%26c%3Dd'],
  ])('form-urlencodes the key %s as %s, keeping slashes', (key, encoded) => {
    expect(encodeEventKey(key)).toBe(encoded);
    expect(decodeURIComponent(encoded.replace(/\+/g, ' '))).toBe(key);
  });

  it('has the shape S3 sends to SQS and Lambda', () => {
    const record = objectCreatedRecord(
      {
        eventName: 'ObjectCreated:CompleteMultipartUpload',
        bucket: 'uploads',
        key: 'k 1',
        size: 10,
        etag: 'abc-2',
        requestId: 'R',
        sourceIp: '127.0.0.1',
      },
      { region: 'us-east-1', principalId: 'P', eventTime: '2026-01-01T00:00:00.000Z', sequencer: '0A' },
    );
    expect(record).toEqual({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: '2026-01-01T00:00:00.000Z',
      eventName: 'ObjectCreated:CompleteMultipartUpload',
      userIdentity: { principalId: 'AWS:P' },
      requestParameters: { sourceIPAddress: '127.0.0.1' },
      responseElements: { 'x-amz-request-id': 'R', 'x-amz-id-2': 'R' },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'embedded-s3',
        bucket: { name: 'uploads', ownerIdentity: { principalId: 'P' }, arn: 'arn:aws:s3:::uploads' },
        object: { key: 'k+1', size: 10, eTag: 'abc-2', sequencer: '0A' },
      },
    });
  });
});
