import { readFileSync } from 'node:fs';
import { detectContent, judgeType } from '/work/wt-real-files/shared/domain/content-type-detection.ts';
const root = '/work/shared/corpus/';
const rows = readFileSync(root + 'MANIFEST.tsv', 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
let bad = 0; let spoofs = 0;
for (const r of rows) {
  const [path, , , , , , browser, truth, valid] = r;
  const bytes = readFileSync(root + path);
  const det = await detectContent(async (n) => bytes.subarray(0, n), bytes.length);
  const v = judgeType(browser || 'application/octet-stream', det);
  const ok = valid === 'yes' ? !v.mismatch : v.mismatch;
  if (!ok || process.env.ALL) { bad++; console.log(`${path}\t${browser}\t${truth}\tdetected=${det.mime}\t${v.mimeType}\tmismatch=${v.mismatch}\t${v.reason}`); }
  for (const d of ['application/pdf', 'image/png']) {
    const s = judgeType(d, det);
    const honest = truth === d || browser === d;
    if (!s.mismatch && !honest) { spoofs++; console.log(`FALSE ACCEPT as ${d}: ${path} ${det.mime} ${s.reason}`); }
  }
}
console.log('bad', bad, 'of', rows.length, 'false accepts', spoofs);
