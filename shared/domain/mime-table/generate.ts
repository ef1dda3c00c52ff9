/**
 * Regenerates `shared-mime-info.json` from the machine's shared-mime-info database (Debian's
 * `shared-mime-info` package, /usr/share/mime): its aliases, its subclass relations and its
 * `*.ext` globs, the table a Linux browser labels uploads with. Run by hand when the database
 * is updated: `npx tsx shared/domain/mime-table/generate.ts`. Nothing reads /usr/share/mime at
 * run time.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
for (const line of lines('globs2')) {
  const [, type, glob] = line.split(':');
  const ext = /^\*\.([a-z0-9_+-]+)$/i.exec(glob ?? '')?.[1]?.toLowerCase();
  if (!type || !ext) continue;
  const list = extensions[ext] ?? [];
  extensions[ext] = list;
  if (!list.includes(type.toLowerCase())) list.push(type.toLowerCase());
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

const table = {
  source: `shared-mime-info ${version ?? '(version unknown)'}: aliases, subclasses, *.ext globs (type names only)`,
  aliases: pairs('aliases'),
  subclasses: pairs('subclasses'),
  extensions: Object.fromEntries(Object.entries(extensions).sort(([a], [b]) => a.localeCompare(b))),
};
const out = join(dirname(fileURLToPath(import.meta.url)), 'shared-mime-info.json');
writeFileSync(out, `${JSON.stringify(table)}\n`);
console.log(
  `${out}: ${table.aliases.length} aliases, ${table.subclasses.length} subclasses, ${Object.keys(extensions).length} extensions`,
);
