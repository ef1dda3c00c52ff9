import { receiveToBuffer } from './body.js';
import { s3Errors } from './errors.js';
import { bodySpec, type RequestContext } from './request.js';
import { parseXmlBody } from './xml.js';

/** XML request bodies (DeleteObjects, CompleteMultipartUpload, tagging) are small. */
const MAX_XML_BYTES = 2 * 1024 * 1024;

/**
 * Reads and parses an XML request body, with the same checks as any body (signed payload hash,
 * Content-MD5, checksums). `requireDigest`: S3 refuses DeleteObjects without Content-MD5 or an
 * x-amz-checksum-* header.
 */
export async function readXmlRequest(
  ctx: RequestContext,
  root: string,
  opts: { requireDigest?: boolean } = {},
): Promise<Record<string, unknown>> {
  const spec = bodySpec(ctx, MAX_XML_BYTES);
  if (opts.requireDigest && spec.contentMd5 === null && spec.checksum === null) {
    throw s3Errors.invalidRequest('Missing required header for this request: Content-MD5');
  }
  const { body } = await receiveToBuffer(ctx.req, spec, MAX_XML_BYTES);
  return parseXmlBody(body.toString('utf8'), root);
}

/** The repeated child elements of a parsed element, always as an array of objects. */
export function elements(parent: Record<string, unknown>, name: string): Record<string, unknown>[] {
  const value = parent[name];
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.map((item) => (item && typeof item === 'object' ? (item as Record<string, unknown>) : {}));
}
