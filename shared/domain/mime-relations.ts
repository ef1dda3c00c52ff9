import table from './mime-table/mime-table.json' with { type: 'json' };

/**
 * How media types relate, as users mean them (API.md section 6, last paragraph), from two
 * maintained tables: mime-db (the types and extensions npm's ecosystem and most servers use)
 * and shared-mime-info (the aliases, subclasses and extension globs Linux browsers label
 * uploads with), joined into `mime-table/mime-table.json` by `mime-table/generate.ts`.
 */

/** `Audio/Ogg; codecs=opus` → `audio/ogg`: what is stored and compared (API.md 6.3). */
export const mimeEssence = (mimeType: string): string => (mimeType.split(';')[0] ?? '').trim().toLowerCase();

/**
 * Names file-type reports that neither table knows by that name. Each maps a file-type name
 * to the name the tables use for the same format.
 */
const DETECTOR_NAMES: readonly (readonly [string, string])[] = [
  ['application/x-cfb', 'application/x-ole-storage'],
  ['audio/x-ms-asf', 'application/vnd.ms-asf'],
  ['video/vnd.avi', 'video/x-msvideo'],
  ['video/mp1s', 'video/mpeg'],
  ['video/mp2p', 'video/mpeg'],
  ['audio/x-m4a', 'audio/mp4'],
  ['image/heif-sequence', 'image/heif'],
  ['image/heic-sequence', 'image/heic'],
  // Names clients send that no registry lists.
  ['image/jpg', 'image/jpeg'],
  ['image/pjpeg', 'image/jpeg'],
  ['image/x-png', 'image/png'],
  ['application/x-pdf', 'application/pdf'],
  ['application/x-zip-compressed', 'application/zip'],
  ['application/x-zip', 'application/zip'],
  ['application/x-gzip', 'application/gzip'],
  ['audio/mp3', 'audio/mpeg'],
];

/**
 * One container, several labels, none a subclass of another in the tables: a file of the
 * family declared as any member is what it says (an `.m4a` whose brand file-type reads as
 * `video/mp4`, a HEIF still declared `image/heic`).
 */
const CONTAINER_FAMILIES: readonly (readonly string[])[] = [
  // ISO base media (ftyp brands): one box structure for audio, video and their DRM'd variants.
  ['video/mp4', 'audio/mp4', 'application/mp4', 'video/x-m4v', 'audio/x-m4b', 'audio/x-m4p', 'video/x-f4v'],
  ['image/heif', 'image/heic', 'image/heif-sequence', 'image/heic-sequence'],
  ['image/mj2', 'video/mj2'],
];

// --- aliases: a union-find over every name the tables and the detector give one type ---

const parent = new Map<string, string>();
const find = (t: string): string => {
  let root = t;
  while (parent.has(root) && parent.get(root) !== root) root = parent.get(root) as string;
  return root;
};
const union = (a: string, b: string) => {
  const ra = find(a);
  const rb = find(b);
  // The tables' canonical name (the right-hand side) stays the root.
  if (ra !== rb) parent.set(ra, rb);
};
const rows = (list: readonly string[]) => list.map((row) => row.split(' ') as [string, string]);
for (const [alias, canonical] of rows(table.aliases)) union(alias, canonical);
for (const [name, canonical] of DETECTOR_NAMES) union(name, canonical);

/** `audio/x-flac` → `audio/flac`, `application/x.apple.alias` → `application/apple.alias` (RFC 6648). */
const unprefixed = (t: string) => t.replace(/\/x[-.]/, '/');

/** The one name this type goes by: aliases, and `x-` prefixed names, are the same type. */
export function canonicalMimeType(mimeType: string): string {
  const root = find(mimeEssence(mimeType));
  const bare = unprefixed(root);
  if (bare === root) return root;
  // `video/x-matroska` is `video/matroska`, unless the tables file the bare name under another.
  const bareRoot = find(bare);
  return bareRoot !== bare ? bareRoot : bare;
}

/** The set under `key`, created empty on first use. */
function setIn<K>(map: Map<K, Set<string>>, key: K): Set<string> {
  const found = map.get(key);
  if (found) return found;
  const created = new Set<string>();
  map.set(key, created);
  return created;
}

// --- extensions: which types a browser labels a file of each extension with ---

const labels = new Map<string, Set<string>>();
const label = (ext: string, type: string) => {
  if (type === 'application/octet-stream') return;
  setIn(labels, ext).add(type);
};
const extensionsOf = new Map<string, Set<string>>();
for (const [ext, types] of Object.entries(table.extensions as Record<string, string>))
  for (const type of types.split(' ')) {
    label(ext, type);
    setIn(extensionsOf, type).add(ext);
  }

/** The types browsers send for a file named `*.ext` (mime-db and shared-mime-info), canonical. */
export function typesForExtension(ext: string): Set<string> {
  return new Set([...(labels.get(ext.toLowerCase()) ?? [])].map(canonicalMimeType));
}

// --- subclasses: a DOCX is a ZIP, an SVG is XML, a DNG is a TIFF ---

const parents = new Map<string, Set<string>>();
/**
 * CFB members shared-mime-info gives magic of their own rather than a parent: file-type names
 * each of them only `application/x-cfb`.
 */
const DETECTOR_MEMBERS: readonly (readonly [string, string])[] = [
  ['application/vnd.ms-excel', 'application/x-ole-storage'],
  ['application/vnd.ms-powerpoint', 'application/x-ole-storage'],
  ['application/vnd.ms-outlook', 'application/x-ole-storage'],
  ['application/vnd.ms-project', 'application/x-ole-storage'],
];
for (const [child, parentType] of [...rows(table.subclasses), ...DETECTOR_MEMBERS]) {
  setIn(parents, canonicalMimeType(child)).add(canonicalMimeType(parentType));
}

/** Every type `mimeType` is a kind of, itself excluded, transitively. */
function ancestors(mimeType: string): Set<string> {
  const seen = new Set<string>();
  const queue = [canonicalMimeType(mimeType)];
  while (queue.length > 0) {
    const t = queue.pop() as string;
    for (const p of parents.get(t) ?? []) {
      if (seen.has(p)) continue;
      seen.add(p);
      queue.push(p);
    }
  }
  return seen;
}

/**
 * The names a declared type also goes by through its extensions: `application/vnd.apple.pages`
 * labels `*.pages`, which shared-mime-info calls `application/x-iwork-pages-sffpages`; mime-db
 * labels `*.msi` `application/x-msdownload`, which is `application/x-msi`, a CFB file.
 */
function relatives(mimeType: string): Set<string> {
  const own = canonicalMimeType(mimeType);
  const top = own.split('/')[0];
  const out = new Set([own]);
  for (const name of [own, mimeEssence(mimeType)])
    for (const ext of extensionsOf.get(name) ?? [])
      for (const t of typesForExtension(ext)) if (t.split('/')[0] === top) out.add(t);
  return out;
}

/** `a` and `b` name the same type (aliases, `x-` prefixes). */
export function sameMimeType(a: string, b: string): boolean {
  const ca = canonicalMimeType(a);
  const cb = canonicalMimeType(b);
  if (ca === cb) return true;
  // `text/xml` and `application/xml`, `text/x-ms-regedit` and `application/x-ms-regedit`.
  const textOrApp = /^(text|application)\//;
  return textOrApp.test(ca) && textOrApp.test(cb) && ca.replace(textOrApp, '') === cb.replace(textOrApp, '');
}

/** `member` is a kind of `container` (DOCX of ZIP, SVG of XML, MSI of CFB), or the same type. */
export function isKindOf(member: string, container: string): boolean {
  const c = canonicalMimeType(container);
  for (const r of relatives(member)) if (r === c || ancestors(r).has(c)) return true;
  return false;
}

/** Both are labels of one container family (ISO base media, HEIF, Ogg, ASF). */
export function sameContainerFamily(a: string, b: string): boolean {
  const ca = canonicalMimeType(a);
  const cb = canonicalMimeType(b);
  if (
    CONTAINER_FAMILIES.some((f) => f.some((t) => sameMimeType(t, ca)) && f.some((t) => sameMimeType(t, cb)))
  )
    return true;
  // Ogg and ASF: shared-mime-info makes each medium a subclass of one container type.
  for (const container of ['application/ogg', 'application/vnd.ms-asf'])
    if (
      (ca === container || ancestors(ca).has(container)) &&
      (cb === container || ancestors(cb).has(container))
    )
      return true;
  return false;
}

/** Every name of this type, for matching a bucket's allowed list written with any of them. */
export function mimeAliases(mimeType: string): Set<string> {
  const canonical = canonicalMimeType(mimeType);
  const out = new Set([mimeEssence(mimeType), canonical]);
  for (const name of parent.keys()) if (find(name) === canonical) out.add(name);
  for (const t of [...out]) {
    out.add(t.replace('/', '/x-'));
    out.add(unprefixed(t));
  }
  return out;
}
