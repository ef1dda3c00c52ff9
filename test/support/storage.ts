import { inject } from 'vitest';
import { createS3Client, createS3ObjectStore } from '../../shared/adapters/s3-object-store.js';

/** Direct access to the local stack's uploads bucket, to check what storage really holds. */
export function uploadsBucket() {
  const config = inject('stackConfig');
  const client = createS3Client({
    region: 'us-east-1',
    endpoint: inject('s3Endpoint'),
    forcePathStyle: true,
    credentials: { accessKeyId: config.s3AccessKeyId, secretAccessKey: config.s3SecretAccessKey },
  });
  return createS3ObjectStore({ client, bucket: config.uploadsBucket });
}
