import { uploadsBucket } from '../storage.js';
import type { HostileTenant } from './tenant.js';

/** Everything that is wrong with a tenant after the run; empty when it is consistent. */
export async function auditTenant(tenant: HostileTenant): Promise<string[]> {
  const problems: string[] = [];
  const files = new Map<string, any>();
  for (const query of ['', 'status=deleted'])
    for (const file of await listAll(tenant, `/v1/files?limit=1000${query ? `&${query}` : ''}`))
      files.set(file.id, file);

  // Only what a 201 created may exist.
  for (const file of files.values())
    if (!tenant.ledger.files.has(file.id)) problems.push(`file ${file.id} was never created by a 201`);
  for (const bucket of await listAll(tenant, '/v1/buckets?limit=1000'))
    if (!tenant.ledger.buckets.has(bucket.id))
      problems.push(`bucket ${bucket.id} was never created by a 201`);
  for (const provider of await listAll(tenant, '/v1/providers?limit=1000'))
    if (provider.id !== 'default' && !tenant.ledger.providers.has(provider.id))
      problems.push(`provider ${provider.id} was never created by a 201`);

  // Objects belong to files; live files have their object (API.md sections 5 to 7).
  const store = uploadsBucket();
  const objects = await listObjects(store, `tenants/${tenant.id}/`);
  const seen = new Set<string>();
  for (const { key, size } of objects) {
    const [, , bucketId, fileId, ...rest] = key.split('/');
    const file = fileId ? files.get(fileId) : undefined;
    if (!file || rest.length > 0 || file.bucketId !== bucketId) {
      problems.push(`object ${key} belongs to no file`);
      continue;
    }
    seen.add(file.id);
    if (file.status === 'rejected') problems.push(`object ${key} of a rejected file was left in place`);
    if ((file.status === 'active' || file.status === 'deleted') && size !== file.size)
      problems.push(`object ${key} holds ${size} bytes, the file says ${file.size}`);
  }
  for (const file of files.values())
    if ((file.status === 'active' || file.status === 'deleted') && !seen.has(file.id))
      problems.push(`${file.status} file ${file.id} has no object`);
  for (const { key } of await listObjects(store, `quarantine/tenants/${tenant.id}/`)) {
    const fileId = key.split('/')[4];
    if (!fileId || !tenant.ledger.files.has(fileId)) problems.push(`quarantined ${key} belongs to no upload`);
  }

  // The quota is the sum of the files (API.md section 11).
  const quota = (await tenant.json('admin', 'GET', '/v1/quota')).body;
  const sum = (status: string[]) =>
    [...files.values()].filter((f) => status.includes(f.status)).reduce((n, f) => n + BigInt(f.size), 0n);
  const used = sum(['active', 'deleted']);
  const reserved = sum(['pending']);
  const count = [...files.values()].filter((f) => f.status === 'active' || f.status === 'deleted').length;
  if (BigInt(quota.usedBytes) !== used) problems.push(`usedBytes ${quota.usedBytes}, files sum to ${used}`);
  if (BigInt(quota.reservedBytes) !== reserved)
    problems.push(`reservedBytes ${quota.reservedBytes}, pending files sum to ${reserved}`);
  if (quota.fileCount !== count)
    problems.push(`fileCount ${quota.fileCount}, ${count} active or deleted files`);
  return problems.map((p) => `${tenant.label}: ${p}`);
}

async function listAll(tenant: HostileTenant, path: string): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const page = await tenant.json(
      'admin',
      'GET',
      cursor ? `${path}&cursor=${encodeURIComponent(cursor)}` : path,
    );
    if (page.status !== 200) throw new Error(`GET ${path} answered ${page.status} ${page.text}`);
    items.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return items;
}

async function listObjects(store: ReturnType<typeof uploadsBucket>, prefix: string) {
  const out: { key: string; size: number }[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ prefix, cursor, limit: 1000 });
    out.push(...page.objects);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}
