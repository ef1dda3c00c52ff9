import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { composeFromEnv } from '../functions/lib/compose.js';
import { isId } from '../shared/domain/ids.js';
import { readEmbeddedS3Credentials } from './embedded-s3/index.js';

/**
 * `npm run fsck -- --tenant acme [--fix]`: the consistency check of one tenant against the
 * servers the environment names (the local stack's defaults: run it while `npm start` runs,
 * or point S3_ENDPOINT / DYNAMODB_ENDPOINT elsewhere). Exit code 1 when something is wrong
 * (and was not repaired), 2 when the check could not run.
 */
const { values } = parseArgs({
  options: {
    tenant: { type: 'string' },
    fix: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
if (!isId(values.tenant)) {
  process.stderr.write('usage: npm run fsck -- --tenant <tenantId> [--fix] [--json]\n');
  process.exit(2);
}

const env = { ...process.env };
env.TABLE_NAME ||= 'stowage';
env.UPLOADS_BUCKET ||= env.S3_BUCKET || 'stowage-uploads';
env.PREVIEW_BUCKET ||= 'stowage-previews';
if (!env.S3_ENDPOINT) {
  // The local stack's embedded store, with the key pair it generated in its data dir.
  const dataDir = resolve(env.FILESTORE_DATA_DIR || '.data', 's3');
  const keys = await readEmbeddedS3Credentials(dataDir);
  if (!keys) {
    process.stderr.write(
      `fsck: no embedded store key pair in ${dataDir}; start the stack once (npm start) or set S3_ENDPOINT\n`,
    );
    process.exit(2);
  }
  env.S3_ENDPOINT = `http://127.0.0.1:${env.S3_PORT || 4569}`;
  env.S3_ACCESS_KEY_ID ||= keys.accessKeyId;
  env.S3_SECRET_ACCESS_KEY ||= keys.secretAccessKey;
}
env.DYNAMODB_ENDPOINT ||= `http://127.0.0.1:${env.DYNAMODB_PORT || 8000}`;
env.DYNAMODB_ACCESS_KEY_ID ||= 'local';
env.DYNAMODB_SECRET_ACCESS_KEY ||= 'local';

const { services } = composeFromEnv(env);
const report = await services.consistency
  .check(values.tenant, { fix: values.fix ?? false })
  .catch((error: unknown) => {
    process.stderr.write(`fsck could not run: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  });
const wrong =
  report.objectsWithoutMetadata.length +
  report.metadataWithoutObjects.length +
  report.bucketCounts.length +
  (report.quota.consistent ? 0 : 1);

let output: string;
if (values.json) output = `${JSON.stringify(report, null, 2)}\n`;
else {
  const lines = [
    `tenant ${report.tenantId}: ${wrong === 0 ? 'consistent' : `${wrong} finding(s)`}${report.fixed ? ', repaired' : ''}`,
    ...report.objectsWithoutMetadata.map(
      (o) => `  object without metadata: ${o.providerId} ${o.key} (${o.size} B)`,
    ),
    ...report.metadataWithoutObjects.map(
      (f) => `  metadata without object: file ${f.fileId} (${f.status}) ${f.key}`,
    ),
    report.quota.consistent
      ? `  quota: ${JSON.stringify(report.quota.actual)}`
      : `  quota recorded ${JSON.stringify(report.quota.recorded)} but files add up to ${JSON.stringify(report.quota.actual)}`,
    ...report.bucketCounts.map(
      (b) => `  bucket ${b.bucketId}: live-file count ${b.recorded ?? 'missing'}, files ${b.actual}`,
    ),
  ];
  output = `${lines.join('\n')}\n`;
}
// Exit once the output is flushed: a pipe's writes are asynchronous, and open SDK sockets would keep us alive.
process.stdout.write(output, () => process.exit(wrong === 0 || report.fixed ? 0 : 1));
