import { sendBytes } from '../api.js';
import { CSV } from '../samples.js';
import type { RawAnswer } from './http.js';
import type { HostileTenant } from './tenant.js';

function must(answer: RawAnswer, status: number, what: string): any {
  if (answer.status !== status) throw new Error(`${what}: ${answer.status} ${answer.text.slice(0, 300)}`);
  return answer.body;
}

export async function makeBucket(t: HostileTenant, body: Record<string, unknown>): Promise<any> {
  return must(await t.json('admin', 'POST', '/v1/buckets', body), 201, `bucket ${String(body.name)}`);
}

export async function makeProvider(t: HostileTenant, name: string): Promise<any> {
  const body = { type: 's3', name, config: { bucket: 'elsewhere', region: 'eu-west-1' } };
  return must(await t.json('admin', 'POST', '/v1/providers', body), 201, `provider ${name}`);
}

export async function pendingFile(
  t: HostileTenant,
  bucketId: string,
  body: Record<string, unknown> = { filename: 'pending.csv', contentType: 'text/csv', size: CSV.length },
): Promise<{ file: any; upload: any }> {
  return must(await t.json('member', 'POST', `/v1/buckets/${bucketId}/uploads`, body), 201, 'initiate');
}

/** Uploads bytes through the presigned instructions and completes: the file as `complete` says. */
export async function uploadFile(
  t: HostileTenant,
  bucketId: string,
  opts: {
    filename: string;
    contentType: string;
    bytes: Uint8Array;
    method?: 'PUT' | 'POST';
    references?: unknown[];
  },
): Promise<any> {
  const { file, upload } = await pendingFile(t, bucketId, {
    filename: opts.filename,
    contentType: opts.contentType,
    size: opts.bytes.length,
    ...(opts.method ? { uploadMethod: opts.method } : {}),
    ...(opts.references ? { references: opts.references } : {}),
  });
  const sent = await sendBytes(upload, opts.bytes);
  if (sent.status >= 300) throw new Error(`storage refused the bytes: ${sent.status} ${await sent.text()}`);
  return must(await t.json('member', 'POST', `/v1/files/${file.id}/complete`, {}), 200, 'complete');
}

export async function activeCsv(
  t: HostileTenant,
  bucketId: string,
  filename: string,
  references?: unknown[],
) {
  const file = await uploadFile(t, bucketId, { filename, contentType: 'text/csv', bytes: CSV, references });
  if (file.status !== 'active') throw new Error(`${filename} ended ${file.status}`);
  return file;
}

export { must };
