// web-demo/deblur.js against tests/golden/deblur.json under Node (no browser): prints one JSON
// line, exits 1 on a mismatch. usage: node tests/deblur_golden_check.mjs <golden dir>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkDeblurGolden } from './deblur_cases.mjs';

const report = await checkDeblurGolden(JSON.parse(readFileSync(join(process.argv[2], 'deblur.json'), 'utf8')));
console.log(JSON.stringify(report));
process.exit(report.failures.length ? 1 : 0);
