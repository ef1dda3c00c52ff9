/**
 * Regenerates `mime-table.json` from two maintained tables: the machine's shared-mime-info
 * database (Debian's `shared-mime-info` package, /usr/share/mime: its aliases, its subclass
 * relations and its `*.ext` globs, what a Linux browser labels uploads with) and mime-db (the
 * npm package: each type's extensions, what most servers and other browsers use). Run by hand
 * when either is updated: `npx tsx shared/domain/mime-table/generate.ts`. Nothing reads
 * /usr/share/mime or mime-db at run time: the functions carry only this compact table.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { supportedExtensions } from 'file-type';
import mimeDb from 'mime-db';

const root = process.argv[2] ?? '/usr/share/mime';
const lines = (name: string) =>
  readFileSync(join(root, name), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));

const pairs = (name: string) =>
  lines(name)
    .map((l) => l.trim().toLowerCase().split(/\s+/))
    .filter((p): p is [string, string] => p.length === 2)
    .sort((a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]));

const extensions: Record<string, string[]> = {};
const addExtension = (ext: string, type: string) => {
  if (type === 'application/octet-stream') return;
  const list = extensions[ext] ?? [];
  extensions[ext] = list;
  if (!list.includes(type)) list.push(type);
};
for (const [type, entry] of Object.entries(mimeDb))
  for (const ext of entry.extensions ?? []) addExtension(ext, type);
for (const line of lines('globs2')) {
  const [, type, glob] = line.split(':');
  const ext = /^\*\.([a-z0-9_+-]+)$/i.exec(glob ?? '')?.[1]?.toLowerCase();
  if (!type || !ext) continue;
  addExtension(ext, type.toLowerCase());
}
const version = /Version: (\S+)/.exec(
  (() => {
    try {
      return (
        readFileSync('/var/lib/dpkg/status', 'utf8')
          .split('\n\n')
          .find((s) => s.startsWith('Package: shared-mime-info\n')) ?? ''
      );
    } catch {
      return '';
    }
  })(),
)?.[1];

const mimeDbVersion = JSON.parse(
  readFileSync(new URL(import.meta.resolve('mime-db/package.json')), 'utf8'),
).version;
const table = {
  source: `shared-mime-info ${version ?? '(version unknown)'} (aliases, subclasses, *.ext globs: type names only) and mime-db ${mimeDbVersion} (extensions)`,
  // `alias canonical` and `child parent`, one string a row, for the same reason.
  aliases: pairs('aliases').map((p) => p.join(' ')),
  // "is text" is judged by the bytes (text-content.ts), never by a detected `text/plain`.
  subclasses: pairs('subclasses')
    .filter(([, parent]) => parent !== 'text/plain')
    .map((p) => p.join(' ')),
  // `ext: "type type"`: one string a row keeps the table small in every function bundle.
  extensions: Object.fromEntries(
    Object.entries(extensions)
      // Only rows that relate something: an extension file-type detects, or one several types
      // share (a single unrelated type per extension tells the judgement nothing).
      .filter(([ext, types]) => types.length > 1 || supportedExtensions.has(ext as never))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([ext, types]) => [ext, types.join(' ')]),
  ),
};
const out = join(dirname(fileURLToPath(import.meta.url)), 'mime-table.json');
writeFileSync(out, `${JSON.stringify(table)}\n`);
console.log(
  `${out}: ${table.aliases.length} aliases, ${table.subclasses.length} subclasses, ${Object.keys(extensions).length} extensions`,
);
