/**
 * A start-up problem the operator can fix (a missing bucket, a port in use, no Java): its
 * message says what to do, and `npm start` prints it without a stack trace.
 */
export class StartupError extends Error {
  override readonly name: string = 'StartupError';
}
