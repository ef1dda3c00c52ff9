import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { compose } from '../functions/lib/compose.js';
import type { StowageConfig } from '../functions/lib/config.js';
import { isId } from '../shared/domain/ids.js';
import { loadOrCreateKeyPair } from './embedded-s3/credentials.js';
import { readEmbeddedS3Credentials } from './embedded-s3/index.js';
import { readLocalConfig } from './local-config.js';

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

// The servers of a running `npm start` on this data directory, or those the environment names.
const local = readLocalConfig(process.env);
const near = local.host === '0.0.0.0' || local.host === '::' ? '127.0.0.1' : local.host;
const at = (port: number) => `http://${near.includes(':') ? `[${near}]` : near}:${port}`;
// The embedded store's key pair, generated in its data dir, signs for DynamoDB Local too.
const storeKeys =
  local.s3.kind === 'embedded' ? await readEmbeddedS3Credentials(join(local.dataDir, 's3')) : null;
if (local.s3.kind === 'embedded' && !storeKeys) {
  process.stderr.write(
    `fsck: no embedded store key pair in ${join(local.dataDir, 's3')}; start the stack once (npm start) or set S3_ENDPOINT\n`,
  );
  process.exit(2);
}
const config: StowageConfig = {
  ...local.service,
  s3:
    local.s3.kind === 'embedded'
      ? {
          ...local.service.s3,
          endpoint: at(local.s3.port),
          forcePathStyle: true,
          credentials: local.service.s3.credentials ?? storeKeys,
        }
      : local.service.s3,
  dynamo:
    local.dynamo.kind === 'embedded'
      ? {
          endpoint: at(local.dynamo.port),
          credentials: storeKeys ?? (await loadOrCreateKeyPair(join(local.dataDir, 'dynamodb'))),
        }
      : {
          ...local.service.dynamo,
          credentials: local.service.dynamo.credentials ?? { accessKeyId: 'local', secretAccessKey: 'local' },
        },
};

const { services } = compose(config);
const report = await services.consistency
  .check(values.tenant, { fix: values.fix ?? false })
  .catch((error: unknown) => {
    process.stderr.write(`fsck could not run: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  });
const wrong =
  report.objectsWithoutMetadata.length +
  report.metadataWithoutObjects.length +
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
  ];
  output = `${lines.join('\n')}\n`;
}
// Exit once the output is flushed: a pipe's writes are asynchronous, and open SDK sockets would keep us alive.
process.stdout.write(output, () => process.exit(wrong === 0 || report.fixed ? 0 : 1));
