import { beforeAll, describe, expect, it } from 'vitest';
import { type Client, client, newTenant, sendBytes } from '../support/api.js';

/**
 * API.md section 6: text is valid "UTF-8 (or the declared charset)". A Latin-1 or Shift_JIS
 * file declared with its charset is accepted, served with that charset, and previewed as the
 * text it is; the same bytes declared as plain UTF-8 text are not what they claim.
 */
let admin: Client;
let bucketId: string;

beforeAll(async () => {
  admin = await client(newTenant('charset'), 'alice', ['admin']);
  bucketId = (await admin.post('/v1/buckets', { name: 'Texts' })).body.id;
});

const LINES = 'Café crème, naïve façade: ¡olé!\nZürich, Ærøskøbing, Señor\n';
const latin1 = () => Buffer.from(LINES, 'latin1');

async function upload(contentType: string, bytes: Uint8Array, filename = 'notes.txt') {
  const init = await admin.post(`/v1/buckets/${bucketId}/uploads`, {
    filename,
    contentType,
    size: bytes.length,
  });
  if (init.status !== 201) return init;
  expect((await sendBytes(init.body.upload, bytes)).ok).toBe(true);
  return admin.post(`/v1/files/${init.body.file.id}/complete`, {});
}

/** The preview's PNG bytes, waiting out the 202s of a render in progress. */
async function previewPng(fileId: string): Promise<Buffer> {
  const until = Date.now() + 60_000;
  for (;;) {
    const answer = await admin.get(`/v1/files/${fileId}/preview`);
    if (answer.status === 200) return Buffer.from(await (await fetch(answer.body.url)).arrayBuffer());
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    expect(Date.now()).toBeLessThan(until);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('text declared with a charset', () => {
  it('accepts Latin-1 declared as ISO-8859-1, stores the type without parameters, serves the charset', async () => {
    const done = await upload('text/plain; charset=ISO-8859-1', latin1());
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body).toMatchObject({ status: 'active', mimeType: 'text/plain' });
    const link = await admin.get(`/v1/files/${done.body.id}/download`);
    const res = await fetch(link.body.url);
    // The WHATWG name of ISO-8859-1, which is what browsers decode it as.
    expect(res.headers.get('content-type')).toBe('text/plain; charset=windows-1252');
    expect(Buffer.from(await res.arrayBuffer()).equals(latin1())).toBe(true);
  });

  it('rejects the same bytes declared as text without a charset (UTF-8), and an unknown charset up front', async () => {
    const done = await upload('text/plain', latin1());
    expect(done.body).toMatchObject({ status: 'rejected', rejectionReason: 'MIME_TYPE_MISMATCH' });
    const unknown = await admin.post(`/v1/buckets/${bucketId}/uploads`, {
      filename: 'x.txt',
      contentType: 'text/plain; charset=x-no-such-charset',
      size: 10,
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('VALIDATION_FAILED');
    expect(unknown.body.error.message).toMatch(/charset/);
  });

  it('previews Latin-1 and Shift_JIS text exactly as the same text in UTF-8', async () => {
    const japanese = '日本語のテキスト、半角ｶﾀｶﾅ\n';
    // Node encodes no Shift_JIS: these are the bytes of `japanese` in it (iconv), checked by decoding.
    const sjis = Buffer.from('93fa967b8cea82cc8365834c835883678141' + '94bc8a70b6c0b6c50a', 'hex');
    expect(new TextDecoder('shift_jis').decode(sjis)).toBe(japanese);
    const pairs: [Buffer, string, Buffer][] = [
      [latin1(), 'text/plain; charset=iso-8859-1', Buffer.from(LINES, 'utf8')],
      [sjis, 'text/plain; charset=shift_jis', Buffer.from(japanese, 'utf8')],
    ];
    for (const [bytes, contentType, utf8] of pairs) {
      const legacy = await upload(contentType, bytes, 'legacy.txt');
      const unicode = await upload('text/plain', utf8, 'unicode.txt');
      expect([legacy.body.status, unicode.body.status]).toEqual(['active', 'active']);
      const [a, b] = await Promise.all([previewPng(legacy.body.id), previewPng(unicode.body.id)]);
      expect(a.equals(b), `${contentType}: the previews differ`).toBe(true);
    }
  });
});
