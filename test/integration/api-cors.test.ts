import { describe, expect, inject, it } from 'vitest';
import { client, newTenant } from '../support/api.js';

/**
 * The local API answers CORS as API Gateway's `corsPreflight` does in AWS (both come from
 * functions/api/cors-policy.ts): the origins FILESTORE_CORS_ORIGINS lists, plus the API's own.
 */
describe('CORS on the local API', () => {
  const api = inject('apiUrl');
  const listed = inject('secondOrigin');
  const unlisted = 'http://evil.example';
  const preflight = (origin: string, path = '/v1/buckets', method = 'POST') =>
    fetch(`${api}${path}`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': method,
        'access-control-request-headers': 'authorization,content-type',
      },
    });

  it('lists the second origin and the API origin itself', () => {
    expect(inject('corsOrigins')).toEqual(expect.arrayContaining([listed, api]));
  });

  it('answers a preflight from a listed origin with 204, the methods, headers and max age', async () => {
    const res = await preflight(listed);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(listed);
    expect(res.headers.get('access-control-allow-methods')).toBe('GET,POST,PUT,PATCH,DELETE');
    expect(res.headers.get('access-control-allow-headers')).toBe('authorization,content-type');
    expect(res.headers.get('access-control-max-age')).toBe('86400');
    expect(res.headers.get('vary')).toContain('Origin');
    expect(await res.text()).toBe('');
  });

  it('answers the preflight before authentication, as API Gateway does (no token on a preflight)', async () => {
    const res = await preflight(listed, '/v1/files/01ARZ3NDEKTSV4RRFFQ69G5FAV', 'DELETE');
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(listed);
  });

  it('gives an unlisted origin no CORS header, on the preflight or the answer', async () => {
    // Act
    const pre = await preflight(unlisted);
    const actor = await client(newTenant('cors'), 'alice', ['admin']);
    const real = await actor.call('GET', '/v1/buckets', undefined, { origin: unlisted });
    // Assess: the browser then refuses to send the request, or to show the page its answer.
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect(pre.headers.get('access-control-allow-methods')).toBeNull();
    expect(real.status).toBe(200);
    expect(real.headers.get('access-control-allow-origin')).toBeNull();
    expect(real.headers.get('access-control-expose-headers')).toBeNull();
  });

  it('never answers "*" or echoes a look-alike origin', async () => {
    for (const origin of [`${listed}.evil.example`, listed.replace('127.0.0.1', 'localhost'), 'null']) {
      const res = await preflight(origin);
      expect(res.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
  });

  it('names the listed origin on real answers, errors included, and exposes the headers scripts read', async () => {
    // Prepare
    const actor = await client(newTenant('cors'), 'alice', ['admin']);
    // Act
    const ok = await actor.call('GET', '/v1/buckets', undefined, { origin: listed });
    const unauthenticated = await fetch(`${api}/v1/buckets`, { headers: { origin: listed } });
    const wrongMethod = await actor.call('PUT', '/v1/buckets', {}, { origin: listed });
    // Assess
    for (const res of [
      ok,
      { status: unauthenticated.status, headers: unauthenticated.headers },
      wrongMethod,
    ]) {
      expect(res.headers.get('access-control-allow-origin')).toBe(listed);
      expect(res.headers.get('access-control-expose-headers')).toBe('allow,etag,location,retry-after');
      expect(res.headers.get('vary')).toContain('Origin');
    }
    expect([ok.status, unauthenticated.status, wrongMethod.status]).toEqual([200, 401, 405]);
    expect(wrongMethod.headers.get('allow')).toBeTruthy();
  });

  it('leaves an OPTIONS that is not a preflight to the API (a wrong method: 401 before 405)', async () => {
    const res = await fetch(`${api}/v1/health`, { method: 'OPTIONS', headers: { origin: listed } });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe(listed);
  });
});
