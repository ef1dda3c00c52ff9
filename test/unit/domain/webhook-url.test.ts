import { describe, expect, it } from 'vitest';
import { judgeWebhookUrl } from '../../../shared/domain/endpoint-rules.js';

const allowed = ['http://127.0.0.1:4000'];

describe('webhook URLs (API.md 13.5, 13.7)', () => {
  it.each([
    ['https://hooks.example.com/stowage?team=7', 'resolve'],
    ['https://hooks.example.com', 'resolve'],
    ['https://93.184.216.34/in', 'public-address'],
    ['http://127.0.0.1:4000/hooks/a', 'allow-listed'],
    ['http://127.0.0.1:4001/hooks/a', 'refused'],
    ['http://hooks.example.com/in', 'refused'],
    ['https://127.0.0.1/in', 'refused'],
    ['https://0x7f.1/in', 'refused'],
    ['https://[::ffff:169.254.169.254]/latest', 'refused'],
    ['https://user:pw@hooks.example.com/in', 'refused'],
    ['https://hooks.example.com/in#frag', 'refused'],
    ['https://hooks.example.com/a/../b', 'refused'],
    ['https://hooks.example.com/a/%2e%2e/b', 'refused'],
    ['https://hooks.example.com\\@127.0.0.1/in', 'refused'],
    ['https://hooks.example.com/in put', 'refused'],
    [' https://hooks.example.com/in', 'refused'],
  ])('%s is %s', (url, kind) => {
    expect(judgeWebhookUrl(url, allowed).kind).toBe(kind);
  });
});
