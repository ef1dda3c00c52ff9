/**
 * The store's one error type: S3's code, HTTP status and message, plus the extra elements S3
 * puts into its XML error body (Key, BucketName, UploadId...). Anything else thrown while
 * serving a request becomes a bland InternalError.
 */
export class S3Error extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly detail: Readonly<Record<string, string | number>> = {},
  ) {
    super(message);
    this.name = 'S3Error';
  }
}

type Detail = Record<string, string | number>;
const make =
  (code: string, status: number, fallback: string) =>
  (message: string = fallback, detail: Detail = {}) =>
    new S3Error(code, status, message, detail);

/** S3's codes and statuses, as the AWS SDK and browsers expect them. */
export const s3Errors = {
  accessDenied: make('AccessDenied', 403, 'Access Denied'),
  invalidAccessKeyId: make(
    'InvalidAccessKeyId',
    403,
    'The AWS Access Key Id you provided does not exist in our records.',
  ),
  signatureDoesNotMatch: make(
    'SignatureDoesNotMatch',
    403,
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  ),
  requestTimeTooSkewed: make(
    'RequestTimeTooSkewed',
    403,
    'The difference between the request time and the current time is too large.',
  ),
  authorizationHeaderMalformed: make(
    'AuthorizationHeaderMalformed',
    400,
    'The authorization header is malformed.',
  ),
  authorizationQueryParametersError: make(
    'AuthorizationQueryParametersError',
    400,
    'The authorization query parameters are malformed.',
  ),
  invalidArgument: make('InvalidArgument', 400, 'Invalid Argument'),
  invalidRequest: make('InvalidRequest', 400, 'Invalid Request'),
  invalidUri: make('InvalidURI', 400, "Couldn't parse the specified URI."),
  invalidBucketName: make('InvalidBucketName', 400, 'The specified bucket is not valid.'),
  keyTooLong: make('KeyTooLongError', 400, 'Your key is too long.'),
  malformedXml: make(
    'MalformedXML',
    400,
    'The XML you provided was not well-formed or did not validate against our published schema.',
  ),
  malformedPost: make(
    'MalformedPOSTRequest',
    400,
    'The body of your POST request is not well-formed multipart/form-data.',
  ),
  invalidPolicyDocument: make(
    'InvalidPolicyDocument',
    400,
    'The content of the form does not meet the conditions specified in the policy document.',
  ),
  missingContentLength: make('MissingContentLength', 411, 'You must provide the Content-Length HTTP header.'),
  incompleteBody: make(
    'IncompleteBody',
    400,
    'You did not provide the number of bytes specified by the Content-Length HTTP header.',
  ),
  entityTooLarge: make('EntityTooLarge', 400, 'Your proposed upload exceeds the maximum allowed size.'),
  entityTooSmall: make(
    'EntityTooSmall',
    400,
    'Your proposed upload is smaller than the minimum allowed size.',
  ),
  badDigest: make('BadDigest', 400, 'The digest you specified did not match what we received.'),
  invalidDigest: make('InvalidDigest', 400, 'The Content-MD5 or checksum value you specified is not valid.'),
  contentSha256Mismatch: make(
    'XAmzContentSHA256Mismatch',
    400,
    "The provided 'x-amz-content-sha256' header does not match what was computed.",
  ),
  metadataTooLarge: make(
    'MetadataTooLarge',
    400,
    'Your metadata headers exceed the maximum allowed metadata size.',
  ),
  invalidTag: make('InvalidTag', 400, 'The tag provided was not a valid tag.'),
  invalidRange: make('InvalidRange', 416, 'The requested range is not satisfiable'),
  noSuchBucket: make('NoSuchBucket', 404, 'The specified bucket does not exist'),
  noSuchKey: make('NoSuchKey', 404, 'The specified key does not exist.'),
  noSuchUpload: make(
    'NoSuchUpload',
    404,
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  ),
  bucketAlreadyOwnedByYou: make(
    'BucketAlreadyOwnedByYou',
    409,
    'Your previous request to create the named bucket succeeded and you already own it.',
  ),
  bucketNotEmpty: make('BucketNotEmpty', 409, 'The bucket you tried to delete is not empty'),
  invalidPart: make(
    'InvalidPart',
    400,
    "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
  ),
  invalidPartOrder: make('InvalidPartOrder', 400, 'The list of parts was not in ascending order.'),
  preconditionFailed: make(
    'PreconditionFailed',
    412,
    'At least one of the pre-conditions you specified did not hold',
  ),
  notModified: make('NotModified', 304, 'Not Modified'),
  methodNotAllowed: make(
    'MethodNotAllowed',
    405,
    'The specified method is not allowed against this resource.',
  ),
  notImplemented: make(
    'NotImplemented',
    501,
    'A header or query you provided implies functionality that is not implemented.',
  ),
  corsForbidden: make('AccessForbidden', 403, 'CORSResponse: This CORS request is not allowed.'),
  internal: make('InternalError', 500, 'We encountered an internal error. Please try again.'),
};

/** The error a request answers with: an S3Error as is, anything else as InternalError. */
export function asS3Error(error: unknown): S3Error {
  return error instanceof S3Error ? error : s3Errors.internal();
}
