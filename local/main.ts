import { ConfigError } from '../functions/lib/config.js';
import { type LocalStack, startLocalStack } from './stack.js';
import { StartupError } from './startup-error.js';

/** `npm start`: the whole service on this machine, until Ctrl-C. */
let stack: LocalStack;
try {
  stack = await startLocalStack();
} catch (error) {
  // What the operator can fix is said plainly; a stack trace is for what nobody expected.
  const expected = error instanceof StartupError || error instanceof ConfigError;
  const detail =
    expected || !(error instanceof Error) ? String((error as Error).message ?? error) : error.stack;
  process.stderr.write(`Stowage did not start:\n${detail}\n`);
  process.exit(1);
}
process.stdout.write(
  `Stowage ready at ${stack.url} (S3 ${stack.s3Endpoint}, DynamoDB ${stack.dynamoEndpoint})\n`,
);

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal}: stopping\n`);
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
