// Check web-demo/core.js against the Python runtime's golden vectors (tests/golden/*.json, written
// by benchmarks/make_golden_vectors.py). Prints one JSON line; exits 1 on any mismatch.
// usage: node tests/golden_check.mjs <golden dir>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { axisStarts, blendRamp, encode, decode, readManifest, restore } from '../core.js';

const dir = process.argv[2];
const load = (n) => JSON.parse(readFileSync(join(dir, n), 'utf8'));
const failures = [];
const counts = { grids: 0, ramps: 0, quant: 0, restore: 0 };
const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

for (const g of load('tiling.json').grids) {
  if (!same(axisStarts(g.h, g.tile, g.overlap), g.ys) || !same(axisStarts(g.w, g.tile, g.overlap), g.xs)) {
    failures.push(`grid ${g.h}x${g.w} ${g.tile}/${g.overlap}`);
  }
  counts.grids++;
}
for (const r of load('tiling.json').ramps) {
  if (!same(Array.from(blendRamp(r.tile, r.overlap)), r.ramp.map(Math.fround))) failures.push(`ramp ${r.tile}/${r.overlap}`);
  counts.ramps++;
}
for (const c of load('quant.json').cases) {
  const spec = { channels: 1, layout: 'NHWC', dtype: c.dtype, quantized: true, lo: 0, hi: 1, scale: c.scale, zeroPoint: c.zero_point };
  const q = encode(spec, Float32Array.from(c.pixels), 1, c.pixels.length);
  if (!same(Array.from(q), c.quantized)) failures.push(`quantize ${c.dtype} ${c.scale}`);
  const d = decode(spec, Int32Array.from(c.levels), 1, c.levels.length);
  const ref = Float32Array.from(c.dequantized);
  const worst = Math.max(...Array.from(d, (v, i) => Math.abs(v - ref[i])));
  if (worst > 0) failures.push(`dequantize ${c.dtype}: max diff ${worst}`);
  counts.quant++;
}
// The golden "model": shift each raw tensor value by ((i + 2j) % 7 - 3 + c) at tile position (i, j).
function shiftModel(man) {
  return async (tile, h, w) => {
    const spec = man.input;
    const x = encode(spec, tile, h, w);
    const c = spec.channels;
    const y = spec.dtype === 'float32' ? new Float32Array(x.length) : new Int32Array(x.length);
    const [lo, hi] = spec.dtype === 'int8' ? [-128, 127] : [0, 255];
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) {
      const idx = spec.layout === 'NHWC' ? (i * w + j) * c + k : (k * h + i) * w + j;
      const d = ((i + 2 * j) % 7) - 3 + k;
      y[idx] = spec.dtype === 'float32' ? Math.fround(x[idx] + Math.fround(0.01) * d) : Math.min(hi, Math.max(lo, x[idx] + d));
    }
    return decode(man.output, y, h, w);
  };
}
let worstRestore = 0;
for (const c of load('restore.json').cases) {
  if (c.channels !== 3) continue; // the page restores grey models on luminance, Python per channel
  const man = readManifest({ ...c.manifest, artifact: { ...c.manifest.artifact, format: 'onnx' } });
  const data = new Uint8ClampedArray(c.width * c.height * 4);
  for (let p = 0; p < c.width * c.height; p++) {
    for (let k = 0; k < 3; k++) data[p * 4 + k] = c.image[p * 3 + k];
    data[p * 4 + 3] = 255;
  }
  const r = await restore(man, { data, width: c.width, height: c.height }, shiftModel(man));
  let diff = 0;
  for (let p = 0; p < c.width * c.height; p++) {
    for (let k = 0; k < 3; k++) diff = Math.max(diff, Math.abs(r.rgba[p * 4 + k] - c.expected[p * 3 + k]));
  }
  worstRestore = Math.max(worstRestore, diff);
  if (diff > 0) failures.push(`restore ${c.name}: max diff ${diff}`);
  counts.restore++;
}
console.log(JSON.stringify({ counts, worstRestore, failures }));
process.exit(failures.length ? 1 : 0);
