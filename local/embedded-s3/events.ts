import type { ServerResponse } from 'node:http';
import type { S3EventRecord } from 'aws-lambda';

export type ObjectCreatedEvent =
  | 'ObjectCreated:Put'
  | 'ObjectCreated:Post'
  | 'ObjectCreated:Copy'
  | 'ObjectCreated:CompleteMultipartUpload';

export interface CreatedObject {
  eventName: ObjectCreatedEvent;
  bucket: string;
  key: string;
  size: number;
  /** Without quotes, as in S3's records. */
  etag: string;
  requestId: string;
  sourceIp: string;
}

export type ObjectCreatedListener = (record: S3EventRecord) => void;

export interface EventHub {
  onObjectCreated(listener: ObjectCreatedListener): () => void;
  /** Delivers the record once the answer to the request that created the object is out. */
  emitAfter(res: ServerResponse, created: CreatedObject): void;
  clear(): void;
}

/**
 * Object-created notifications in exactly the record shape S3 sends to SQS/Lambda, delivered
 * to in-process listeners after the response (as S3 delivers after the request). A listener
 * that throws is reported as a process warning and does not stop the others.
 */
export function createEventHub(opts: { region: string; principalId: string }): EventHub {
  const listeners = new Set<ObjectCreatedListener>();
  let lastSequence = 0n;
  /** S3's sequencer: hex that grows with every event for a key; this one grows for every event. */
  const nextSequencer = () => {
    const now = BigInt(Date.now()) * 1000n;
    lastSequence = now > lastSequence ? now : lastSequence + 1n;
    return lastSequence.toString(16).toUpperCase().padStart(18, '0');
  };

  const deliver = (created: CreatedObject, eventTime: string) => {
    if (listeners.size === 0) return;
    const record = objectCreatedRecord(created, { ...opts, eventTime, sequencer: nextSequencer() });
    for (const listener of listeners) {
      try {
        listener(record);
      } catch (error) {
        process.emitWarning(error as Error, { code: 'EMBEDDED_S3_LISTENER' });
      }
    }
  };

  return {
    onObjectCreated(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    emitAfter(res, created) {
      const eventTime = new Date().toISOString();
      let sent = false;
      // 'close' as well: the object exists even when the client left before the answer.
      const send = () => {
        if (sent) return;
        sent = true;
        setImmediate(() => deliver(created, eventTime));
      };
      res.once('finish', send);
      res.once('close', send);
    },
    clear() {
      listeners.clear();
    },
  };
}

/** The record S3 puts in an ObjectCreated notification (event version 2.1). */
export function objectCreatedRecord(
  created: CreatedObject,
  opts: { region: string; principalId: string; eventTime: string; sequencer: string },
): S3EventRecord {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: opts.region,
    eventTime: opts.eventTime,
    eventName: created.eventName,
    userIdentity: { principalId: `AWS:${opts.principalId}` },
    requestParameters: { sourceIPAddress: created.sourceIp },
    responseElements: { 'x-amz-request-id': created.requestId, 'x-amz-id-2': created.requestId },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'embedded-s3',
      bucket: {
        name: created.bucket,
        ownerIdentity: { principalId: opts.principalId },
        arn: `arn:aws:s3:::${created.bucket}`,
      },
      object: {
        key: encodeEventKey(created.key),
        size: created.size,
        eTag: created.etag,
        sequencer: opts.sequencer,
      },
    },
  };
}

/**
 * Keys in S3 event records are form-urlencoded: a space becomes `+`, other reserved and
 * non-ASCII characters are percent-encoded as UTF-8 (`(` as %28 too), and `/` stays as is.
 */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()~]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
    .replace(/%2F/g, '/');
}
