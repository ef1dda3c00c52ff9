import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
const jpeg = '/tmp/rf/big.jpg';
const script = (body: string) =>
  `const bytes = require('fs').readFileSync(${JSON.stringify(jpeg)});(async () => {${body}; console.log(process.resourceUsage().maxRSS * 1024)})()`;
const r = await promisify(execFile)(process.execPath, ['-e', script("const s = require('sharp'); s.concurrency(1); s.cache(false); await s(bytes).rotate().resize({ width: 800 }).toColourspace('srgb').png().toBuffer()")], { cwd: process.cwd() });
console.log(r);
