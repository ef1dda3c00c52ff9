import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../../../functions/lib/config.js';
import { browserDrawsPreviewOf } from '../../../shared/adapters/preview/chromium-preview-renderer.js';
import { createDelegatedPreviewRenderer } from '../../../shared/adapters/preview/delegated-preview-renderer.js';
import type { LambdaPreviewScheduler } from '../../../shared/adapters/preview/lambda-preview-scheduler.js';
import { createRoutedPreviewScheduler } from '../../../shared/adapters/preview/routed-preview-scheduler.js';
import { PreviewFailedError } from '../../../shared/ports/preview-renderer.js';

/** A scheduler that records what it was asked, and settles when told to. */
function recording() {
  const asked: string[] = [];
  let settle = () => {};
  const settledOnce = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const scheduler: LambdaPreviewScheduler = {
    schedule: (tenantId, fileId) => void asked.push(`${tenantId}/${fileId}`),
    settled: () => settledOnce,
  };
  return { scheduler, asked, settle };
}

describe('previews routed by type (AWS: Chromium on x86_64, PDFs and images on arm64)', () => {
  it('sends what Chromium draws to the browser function and everything else to the render function', async () => {
    // Prepare
    const browser = recording();
    const render = recording();
    const routed = createRoutedPreviewScheduler({
      routes: [{ types: browserDrawsPreviewOf, scheduler: browser.scheduler }],
      fallback: render.scheduler,
    });
    // Act
    routed.schedule('t', 'svg', 'image/svg+xml');
    routed.schedule('t', 'csv', 'text/csv');
    routed.schedule('t', 'pdf', 'application/pdf');
    routed.schedule('t', 'untyped');
    let settled = false;
    const done = routed.settled().then(() => {
      settled = true;
    });
    browser.settle();
    await Promise.resolve();
    // Assess: it settles only once both have handed their invocations over.
    expect([browser.asked, render.asked]).toEqual([
      ['t/svg', 't/csv'],
      ['t/pdf', 't/untyped'],
    ]);
    expect(settled).toBe(false);
    render.settle();
    await done;
    expect(settled).toBe(true);
  });

  it('answers that another function draws those types, and fails a render misrouted here as unsupported', async () => {
    const delegated = createDelegatedPreviewRenderer({
      supports: browserDrawsPreviewOf,
      drawnBy: 'the browser function',
    });
    expect([delegated.supports('text/html'), delegated.supports('application/pdf')]).toEqual([true, false]);
    const error = await delegated
      .render({ bytes: new Uint8Array([60]), mimeType: 'text/html', width: 100 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PreviewFailedError);
    expect((error as PreviewFailedError).reason).toBe('unsupported');
  });

  it('is configured only with Lambda scheduling and the browser function named', () => {
    const base = {
      TABLE_NAME: 't',
      UPLOADS_BUCKET: 'u',
      AWS_REGION: 'eu-west-1',
      AWS_LAMBDA_FUNCTION_NAME: 'f',
    };
    expect(() => readConfig({ ...base, PREVIEW_BROWSER: 'lambda' })).toThrow(ConfigError);
    const config = readConfig({
      ...base,
      PREVIEW_AHEAD: 'lambda',
      RENDER_FUNCTION_NAME: 'render',
      PREVIEW_BROWSER: 'lambda',
      BROWSER_RENDER_FUNCTION_NAME: 'browser',
    });
    expect(config.previews).toMatchObject({ browser: 'lambda', browserFunctionName: 'browser' });
  });
});
