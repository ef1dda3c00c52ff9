import middy from '@middy/core';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import type { Logger } from '../../shared/ports/logger.js';
import type { Services } from '../../shared/services/index.js';
import { composeFromEnv, settlingScheduled } from '../lib/compose.js';
import { lazy } from '../lib/lazy.js';
import type { ClaimNames } from './claims.js';
import { httpErrors } from './http-errors.js';
import { toApiGatewayResult } from './http-response.js';
import { createRouter } from './router.js';
import { routes } from './routes.js';

export interface ApiDeps {
  services: Services;
  claimNames: ClaimNames;
  logger: Logger;
  /** The API's public origin, for share-link URLs (the local stack passes its own). */
  publicUrl?: string;
}

/** The HTTP API as one Lambda: API Gateway v2 event in, JSON out (API.md). */
export function makeApiHandler(deps: ApiDeps) {
  const router = createRouter(routes, deps.services, deps.claimNames, { publicUrl: deps.publicUrl });
  return middy<APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Error, Context>()
    .use(httpErrors({ logger: deps.logger }))
    .handler(async (event) => toApiGatewayResult(await router(event)));
}

/** Composed on the first invocation (once per cold start), so importing this module reads no env. */
export const handler = lazy(() => {
  const app = composeFromEnv(process.env);
  // `complete` and a preview miss may schedule a render: it is sent before the answer.
  return settlingScheduled(
    app,
    makeApiHandler({ services: app.services, claimNames: app.config.jwt, logger: app.logger }),
  );
});
