import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { mintDevToken } from '../../local/dev-token.js';

export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A fresh tenant id per test file, so files never see each other's data. */
export const newTenant = (label = 't') => `${label}-${randomBytes(6).toString('hex')}`;

/** A client of the running local stack, acting as one user of one tenant. */
export async function client(tenantId: string, userId: string, roles: string[], base = inject('apiUrl')) {
  const token = await mintDevToken({ tenantId, userId, roles });
  const call = async <T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(`${base}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // keep the text
    }
    return { status: res.status, body: parsed as T, headers: res.headers } satisfies Answer<T>;
  };
  return {
    token,
    tenantId,
    userId,
    get: <T = any>(path: string) => call<T>('GET', path),
    post: <T = any>(path: string, body?: unknown) => call<T>('POST', path, body ?? {}),
    put: <T = any>(path: string, body?: unknown) => call<T>('PUT', path, body),
    patch: <T = any>(path: string, body?: unknown) => call<T>('PATCH', path, body),
    del: <T = any>(path: string) => call<T>('DELETE', path),
    call,
  };
}

export type Client = Awaited<ReturnType<typeof client>>;

/** Sends bytes as the upload instructions say (PUT or POST), like a browser would. */
export async function sendBytes(upload: any, bytes: Uint8Array): Promise<Response> {
  const body = new Uint8Array(bytes); // a copy on its own ArrayBuffer, as fetch's types want
  if (upload.method === 'PUT') return fetch(upload.url, { method: 'PUT', headers: upload.headers, body });
  if (upload.method === 'POST') {
    const form = new FormData();
    for (const [k, v] of Object.entries(upload.fields as Record<string, string>)) form.append(k, v);
    form.append('file', new Blob([body]));
    return fetch(upload.url, { method: 'POST', body: form });
  }
  throw new Error(`sendBytes does not do ${upload.method}`);
}

/** Waits until the file leaves `pending` (the storage event path), or gives up. */
export async function waitForStatus(api: Client, fileId: string, timeoutMs = 10_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api.get(`/v1/files/${fileId}`);
    if (body.status !== 'pending' || Date.now() > until) return body;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sha256Hex = async (bytes: Uint8Array) => {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(bytes).digest('hex');
};
