import type { ServerResponse } from 'node:http';
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { type S3Error, s3Errors } from './errors.js';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: false });
/** Elements that may repeat in the request bodies the store reads. */
const REPEATED = new Set(['Object', 'Part', 'Tag']);
const parser = new XMLParser({
  ignoreAttributes: true,
  // Keys are compared byte for byte: no number parsing, no trimming.
  parseTagValue: false,
  trimValues: false,
  removeNSPrefix: true,
  htmlEntities: true,
  isArray: (name) => REPEATED.has(name),
});

/** `{ Root: {...} }` as an S3 XML document (values escaped by the builder). */
export function toXml(document: Record<string, unknown>): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build(document)}`;
}

/**
 * Parses a request body S3 would accept as XML. DOCTYPEs are refused outright (S3 has no use
 * for them, and they are how entity-expansion attacks start); anything not well formed, or
 * without the expected root element, is MalformedXML.
 */
export function parseXmlBody(text: string, root: string): Record<string, unknown> {
  if (/<!DOCTYPE/i.test(text) || XMLValidator.validate(text) !== true) throw s3Errors.malformedXml();
  const parsed = parser.parse(text) as Record<string, unknown>;
  const element = parsed[root];
  if (element === undefined) throw s3Errors.malformedXml();
  return typeof element === 'object' && element !== null ? (element as Record<string, unknown>) : {};
}

/** The text of a parsed element, or undefined when it is missing or not text. */
export function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && '#text' in value) {
    const text = (value as { '#text': unknown })['#text'];
    return typeof text === 'string' ? text : undefined;
  }
  return value === '' ? '' : undefined;
}

export function sendXml(res: ServerResponse, status: number, document: Record<string, unknown>): void {
  const body = Buffer.from(toXml(document), 'utf8');
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': body.length });
  res.end(body);
}

/** S3's error answer: `<Error>` with Code, Message, Resource, RequestId and the error's details. */
export function sendError(
  res: ServerResponse,
  error: S3Error,
  where: { resource: string; requestId: string; head: boolean },
): void {
  // A HEAD answer has no body; 304 never has one.
  if (where.head || error.status === 304) {
    res.writeHead(error.status);
    res.end();
    return;
  }
  sendXml(res, error.status, {
    Error: {
      Code: error.code,
      Message: error.message,
      ...error.detail,
      Resource: where.resource,
      RequestId: where.requestId,
    },
  });
}
