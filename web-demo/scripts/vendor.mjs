// Copy onnxruntime-web's browser files (wasm build only) from node_modules into vendor/.
// Run after `npm ci`: `npm run vendor`. vendor/ is not committed.
import { copyFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, 'node_modules', 'onnxruntime-web', 'dist');
const out = join(root, 'vendor');
const files = ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];
if (!existsSync(dist)) {
  console.error(`onnxruntime-web is not installed (${dist} missing): run "npm ci" in web-demo/ first`);
  process.exit(1);
}
mkdirSync(out, { recursive: true });
for (const f of files) {
  copyFileSync(join(dist, f), join(out, f));
}
console.log(`vendored ${files.length} onnxruntime-web files into ${out}`);
