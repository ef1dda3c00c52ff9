import { expect } from 'vitest';
import type { Actor, FileRecord } from '../../../shared/domain/model.js';
import { sendBytes } from '../api.js';
import type { ApiAnswer, FaultyApp } from './fault-app.js';

export interface Initiated {
  file: FileRecord;
  upload: any;
}

/** Initiates through the use case (no faults armed yet): the state a scenario starts from. */
export async function initiated(
  app: FaultyApp,
  actor: Actor,
  bucketId: string,
  bytes: Buffer,
  input: { contentType: string; multipart?: boolean; sha256?: string; references?: FileRecord['references'] },
): Promise<Initiated> {
  return app.services.uploads.initiate(actor, bucketId, {
    filename: 'upload.bin',
    size: bytes.length,
    ...input,
  });
}

/** Sends the bytes as the instructions say, like a browser; answers the parts to complete with. */
export async function sendAll(
  upload: any,
  bytes: Buffer,
): Promise<{ partNumber: number; etag: string }[] | undefined> {
  if (upload.method !== 'MULTIPART') {
    expect([200, 201, 204]).toContain((await sendBytes(upload, bytes)).status);
    return undefined;
  }
  const answer = await fetch(upload.parts[0].url, { method: 'PUT', body: new Uint8Array(bytes) });
  expect(answer.status).toBe(200);
  return [{ partNumber: 1, etag: answer.headers.get('etag') as string }];
}

/** A pending upload whose bytes are in storage, its event not delivered (the app's bucket has no queue). */
export async function uploaded(
  app: FaultyApp,
  actor: Actor,
  bucketId: string,
  bytes: Buffer,
  input: Parameters<typeof initiated>[4],
): Promise<Initiated & { parts?: { partNumber: number; etag: string }[] }> {
  const started = await initiated(app, actor, bucketId, bytes, input);
  return { ...started, parts: await sendAll(started.upload, bytes) };
}

export const completeCall = (
  app: FaultyApp,
  actor: Actor,
  fileId: string,
  parts?: unknown,
): Promise<ApiAnswer> => app.api(actor, 'POST', `/v1/files/${fileId}/complete`, parts ? { parts } : {});
