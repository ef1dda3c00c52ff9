import type { FileRecord } from '../domain/model.js';
import type { MetadataStore } from '../ports/repositories.js';

/**
 * Runs a conditional transition that removes a file's record (abandon, purge) and answers
 * whether it is removed. When the write's answer is lost on every retry (a timeout or a reset
 * after storage did it), it throws although the record is gone, and then nothing else remembers
 * the file's object and references: so the record is read back, and gone means removed, for the
 * caller to clean up after it (a concurrent remover cleans up too; both are idempotent). In any
 * other case the error stands.
 */
export async function removeRecord(
  metadata: Pick<MetadataStore, 'files'>,
  file: FileRecord,
  remove: (file: FileRecord) => Promise<boolean>,
): Promise<boolean> {
  try {
    return await remove(file);
  } catch (error) {
    const current = await metadata.files.get(file.tenantId, file.id).catch(() => undefined);
    if (current === null) return true;
    throw error;
  }
}
