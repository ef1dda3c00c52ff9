/** One request that carries file bytes to storage (a presigned PUT or POST, or one part). */
export interface SendRequest {
  method: 'PUT' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body: Blob | FormData;
  signal: AbortSignal;
  /** How much of the request body is sent: `loaded / total` is the fraction (total 0: unknown). */
  onProgress?: (loaded: number, total: number) => void;
}

export interface SendResult {
  status: number;
  /** Header lookup, case-insensitive. */
  header(name: string): string | null;
  text: string;
}

export type SendBytes = (request: SendRequest) => Promise<SendResult>;

const abortError = (signal: AbortSignal): unknown =>
  signal.reason ?? new DOMException('The upload was cancelled.', 'AbortError');

/**
 * Browsers: XMLHttpRequest, the only API that reports upload progress byte by byte.
 */
export const xhrSendBytes: SendBytes = (req) =>
  new Promise((resolve, reject) => {
    if (req.signal.aborted) return reject(abortError(req.signal));
    const xhr = new XMLHttpRequest();
    xhr.open(req.method, req.url);
    for (const [name, value] of Object.entries(req.headers ?? {})) {
      // The browser sets these itself and refuses to be told.
      if (name.toLowerCase() === 'content-length' || name.toLowerCase() === 'host') continue;
      xhr.setRequestHeader(name, value);
    }
    const onAbort = () => xhr.abort();
    req.signal.addEventListener('abort', onAbort, { once: true });
    const done = () => req.signal.removeEventListener('abort', onAbort);
    xhr.upload.onprogress = (e) => req.onProgress?.(e.loaded, e.lengthComputable ? e.total : 0);
    xhr.onload = () => {
      done();
      resolve({ status: xhr.status, header: (n) => xhr.getResponseHeader(n), text: xhr.responseText });
    };
    xhr.onerror = () => {
      done();
      reject(new TypeError('Network error while sending the file.'));
    };
    xhr.onabort = () => {
      done();
      reject(abortError(req.signal));
    };
    xhr.send(req.body);
  });

/**
 * Node and any runtime without XMLHttpRequest: fetch has no upload progress, so progress
 * comes once the whole request (or part) is sent.
 */
export const fetchSendBytes =
  (fetchImpl: typeof fetch): SendBytes =>
  async (req) => {
    const headers = { ...(req.headers ?? {}) };
    // fetch computes it from the body; undici refuses to be told.
    for (const name of Object.keys(headers))
      if (name.toLowerCase() === 'content-length') delete headers[name];
    const res = await fetchImpl(req.url, { method: req.method, headers, body: req.body, signal: req.signal });
    const text = await res.text();
    if (res.ok) req.onProgress?.(1, 1);
    return { status: res.status, header: (n) => res.headers.get(n), text };
  };
