import { allPublic, judgeEndpoint, judgeWebhookUrl, NOT_PUBLIC_HOST } from '../domain/endpoint-rules.js';
import { validationFailed } from '../domain/errors.js';
import type { HostResolver } from '../ports/host-resolver.js';

export interface EndpointCheckDeps {
  /** Canonical origins the operator exempts (`FILESTORE_ALLOWED_ENDPOINTS`). */
  allowedOrigins: readonly string[];
  /** Absent: no name can be checked, so only allow-listed origins and public IP literals pass. */
  resolver?: HostResolver;
  /** `url`: a webhook URL, which may have a path and query. @default 'endpoint' (a bare origin) */
  shape?: 'endpoint' | 'url';
}

/**
 * API.md section 13.7 at creation time, for a URL the service will call (a provider endpoint;
 * a webhook URL later): 400 `VALIDATION_FAILED` unless allowed. This gives the admin an answer
 * now; the same rule is held again at every connection (shared/adapters/guarded-http.ts).
 */
export async function assertCallableEndpoint(
  raw: string,
  field: string,
  deps: EndpointCheckDeps,
): Promise<void> {
  const verdict =
    deps.shape === 'url'
      ? judgeWebhookUrl(raw, deps.allowedOrigins)
      : judgeEndpoint(raw, deps.allowedOrigins);
  if (verdict.kind === 'allow-listed' || verdict.kind === 'public-address') return;
  let reason = verdict.kind === 'refused' ? verdict.reason : NOT_PUBLIC_HOST;
  if (verdict.kind === 'resolve' && deps.resolver) {
    const addresses = await deps.resolver.resolve(verdict.hostname).then(
      (answers) => answers.map((a) => a.address),
      () => [],
    );
    if (allPublic(addresses)) return;
    reason = NOT_PUBLIC_HOST;
  }
  throw validationFailed(`${field} ${reason}.`, {
    issues: [{ path: `body.${field}`, message: reason }],
  });
}
