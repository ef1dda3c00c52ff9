import { describe, expect, it } from 'vitest';
import { compose, settlingScheduled } from '../../../functions/lib/compose.js';
import { ConfigError, readConfig } from '../../../functions/lib/config.js';
import { makeRenderPreviewHandler } from '../../../functions/render-preview/handler.js';
import { currentTenant } from '../../../shared/adapters/tenant-scope/tenant-context.js';
import { silentLogger } from '../../../shared/ports/logger.js';

const BASE = { TABLE_NAME: 't', UPLOADS_BUCKET: 'u', PREVIEW_BUCKET: 'p', AWS_REGION: 'eu-west-1' };

describe('preview scheduling settings (functions/lib/config.ts)', () => {
  it('PREVIEW_AHEAD=lambda names the render function, which is then required', () => {
    expect(
      readConfig({ ...BASE, PREVIEW_AHEAD: 'lambda', RENDER_FUNCTION_NAME: 'render' }).previews,
    ).toMatchObject({
      ahead: 'lambda',
      renderFunctionName: 'render',
      onDemand: 'render',
    });
    expect(() => readConfig({ ...BASE, PREVIEW_AHEAD: 'lambda' })).toThrow(
      new ConfigError('Environment variable RENDER_FUNCTION_NAME is required.'),
    );
  });

  it('PREVIEW_ON_DEMAND=schedule needs something to schedule with', () => {
    expect(() =>
      readConfig({ ...BASE, AWS_LAMBDA_FUNCTION_NAME: 'api', PREVIEW_ON_DEMAND: 'schedule' }),
    ).toThrow(/PREVIEW_ON_DEMAND=schedule needs PREVIEW_AHEAD/);
    expect(() => readConfig({ ...BASE, PREVIEW_ON_DEMAND: 'later' })).toThrow(/render, schedule/);
  });
});

describe('composition with PREVIEW_AHEAD=lambda', () => {
  it('schedules through the render function and answers only once the invocations are sent', async () => {
    // Prepare: a composed app whose scheduled sends are still running.
    const app = compose(
      readConfig({
        ...BASE,
        PREVIEW_AHEAD: 'lambda',
        RENDER_FUNCTION_NAME: 'render',
        PREVIEW_ON_DEMAND: 'schedule',
      }),
      { logger: silentLogger },
    );
    expect(app.deps.previews?.scheduler).toBeDefined();
    expect(app.deps.previews?.settings).toMatchObject({ onDemand: 'schedule', retryAfterSeconds: 2 });
    const order: string[] = [];
    const handler = settlingScheduled(
      {
        scheduled: async () => {
          await new Promise((r) => setTimeout(r, 5));
          order.push('sent');
        },
      },
      async () => {
        order.push('handled');
        return 'answer';
      },
    );

    // Act / Assess
    await expect(handler({}, {})).resolves.toBe('answer');
    expect(order).toEqual(['handled', 'sent']);
    await app.scheduled();
  });
});

describe('the render-preview handler', () => {
  it('renders in the tenant scope of the event (the tenant session, in AWS)', async () => {
    const seen: unknown[] = [];
    const handler = makeRenderPreviewHandler({
      previews: {
        renderAhead: async (tenantId, fileId) => void seen.push([tenantId, fileId, currentTenant()]),
      },
    });
    await handler({ tenantId: 'acme', fileId: '01F' });
    expect(seen).toEqual([['acme', '01F', 'acme']]);
  });

  it.each([
    {},
    { tenantId: 'acme' },
    { tenantId: '../other', fileId: '01F' },
    { tenantId: 'acme', fileId: 'a/b' },
  ])('refuses %j', async (event) => {
    const handler = makeRenderPreviewHandler({ previews: { renderAhead: async () => undefined } });
    await expect(handler(event as never)).rejects.toThrow(/tenantId, fileId/);
  });
});
