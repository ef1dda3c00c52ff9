import type middy from '@middy/core';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer as APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import { isStowageError, StowageError, validationFailed } from '../../shared/domain/errors.js';
import type { Logger } from '../../shared/ports/logger.js';
import { InvalidCursorError } from '../../shared/ports/repositories.js';
import { toApiGatewayResult } from './http-response.js';

/**
 * The one place failures become HTTP answers: a `StowageError` keeps its status and code
 * (API.md section 0); anything else is logged and answered with a bland 500 `INTERNAL`.
 */
export function httpErrors(opts: {
  logger: Logger;
}): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  return {
    onError: async (request) => {
      const error = request.error;
      const known = isStowageError(error)
        ? error
        : error instanceof InvalidCursorError
          ? validationFailed('cursor is not valid for this query.')
          : null;
      // Only the unexpected is logged as an error: a 507 QUOTA_EXCEEDED is an answer, not a fault.
      if (!known || known.code === 'INTERNAL')
        opts.logger.error('request failed', {
          path: request.event.rawPath,
          method: request.event.requestContext.http.method,
          error:
            error instanceof Error
              ? { name: error.name, message: error.message, stack: error.stack }
              : String(error),
        });
      const answer: StowageError = known?.expose
        ? known
        : new StowageError('INTERNAL', 'An internal error occurred.');
      const headers: Record<string, string> = {};
      if (answer.code === 'METHOD_NOT_ALLOWED') {
        const allow = (answer.cause as { allow?: string[] } | undefined)?.allow ?? [];
        headers.allow = allow.join(', ');
      }
      const body = {
        error: {
          code: answer.code,
          message: answer.message,
          ...(answer.details === undefined ? {} : { details: answer.details }),
        },
      };
      request.response = toApiGatewayResult({ status: answer.status, body, headers });
    },
  };
}
