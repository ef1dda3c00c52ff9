import { startLocalStack } from './stack.js';

/** `npm start`: the whole service on this machine, until Ctrl-C. */
const stack = await startLocalStack();
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
