// The browser port of edgedeblur.runtime's pre/post-processing: manifest checks, tile grid,
// raised-cosine blend, reflect padding, quantization and layout. Same formulas as
// edgedeblur/runtime/tiling.py and runner.py (and android-demo/core), so a photo restored here
// matches the Python runtime on the same artifact. No DOM access: testable on its own.

/** A manifest the page cannot use; message names the field, what was given and what is allowed. */
export class ManifestError extends Error {}

const DTYPES = ['float32', 'int8', 'uint8'];

function tensorSpec(where, t) {
  if (!t || typeof t !== 'object') throw new ManifestError(`${where}: missing`);
  const { shape, dtype, layout, range, colour } = t;
  if (!Array.isArray(shape) || shape.length !== 4) throw new ManifestError(`${where}.shape: given ${JSON.stringify(shape)}, allowed 4 dimensions`);
  if (!DTYPES.includes(dtype)) throw new ManifestError(`${where}.dtype: given ${dtype}, allowed ${DTYPES.join(', ')} (float16 I/O is not supported in the browser)`);
  if (layout !== 'NCHW' && layout !== 'NHWC') throw new ManifestError(`${where}.layout: given ${layout}, allowed NCHW, NHWC`);
  const dim = (a) => shape[layout.indexOf(a)];
  const quantized = dtype !== 'float32';
  if (quantized && (typeof t.scale !== 'number' || typeof t.zero_point !== 'number')) {
    throw new ManifestError(`${where}: dtype ${dtype} needs scale and zero_point`);
  }
  return {
    name: t.name, shape, dtype, layout, colour, quantized,
    lo: range[0], hi: range[1], scale: t.scale, zeroPoint: t.zero_point,
    channels: dim('C'), height: dim('H'), width: dim('W'),
  };
}

/** Parse and check a manifest object (docs/manifest.md); returns what the page needs. */
export function readManifest(m) {
  if (!m || m.schema_version !== 1) throw new ManifestError(`schema_version: given ${m && m.schema_version}, allowed 1`);
  const art = m.artifact || {};
  if (art.format !== 'onnx') {
    throw new ManifestError(`artifact.format: given ${art.format}, allowed onnx (export with --target onnx-fp32 or onnx-int8)`);
  }
  if (typeof art.file !== 'string' || art.file.includes('/') || art.file.includes('\\')) {
    throw new ManifestError(`artifact.file must be a bare file name, given ${art.file}`);
  }
  const io = m.io || {};
  const input = tensorSpec('io.input', io.input);
  const output = tensorSpec('io.output', io.output);
  // a deblur prior takes RGB + a noise-level map (io.conditioning.noise_map) and returns RGB
  const noiseMap = !!(io.conditioning && io.conditioning.noise_map);
  if (input.channels !== output.channels + (noiseMap ? 1 : 0)) {
    throw new ManifestError(`io: input has ${input.channels} channels, output ${output.channels}` +
      (noiseMap ? ' (a noise-map prior needs RGB + 1 in, RGB out)' : ' (they must match without io.conditioning)'));
  }
  const tile = io.tile ? io.tile.size : 512;
  const overlap = io.tile ? io.tile.overlap : 32;
  checkTile(tile, overlap);
  return {
    file: art.file, bytes: art.bytes, sha256: art.sha256, precision: art.precision,
    name: (m.model || {}).name, task: (m.model || {}).task,
    input, output, dynamic: io.dynamic_hw === true, padMultiple: io.pad_multiple, tile, overlap,
    noiseMap, pipeline: m.pipeline || null,
  };
}

function checkTile(tile, overlap) {
  if (!(tile >= 1) || overlap < 0 || 2 * overlap >= tile) {
    throw new ManifestError(`invalid tile/overlap: given ${tile}/${overlap}, allowed tile >= 1 and 0 <= overlap < tile/2`);
  }
}

/** Tile starts along one axis (tiling.axis_starts). */
export function axisStarts(n, tile, overlap) {
  checkTile(tile, overlap);
  if (n <= tile) return [0];
  const stride = tile - overlap;
  const k = Math.ceil((n - tile) / stride) + 1;
  const s = [];
  for (let i = 0; i < k - 1; i++) s.push(i * stride);
  s.push(n - tile);
  return s;
}

/** Raised-cosine ramp (tiling.blend_ramp), float32 values. */
export function blendRamp(tile, overlap) {
  const r = new Float32Array(tile).fill(1);
  for (let i = 0; i < overlap; i++) {
    const up = 0.5 - 0.5 * Math.cos(Math.PI * (i + 0.5) / overlap);
    r[i] = up;
    r[tile - 1 - i] = up;
  }
  return r;
}

function reflect(i, n, edge) {
  if (i < n) return i;
  if (edge || n === 1) return n - 1;
  const p = 2 * (n - 1);
  const r = i % p;
  return r < n ? r : p - r;
}

const QRANGE = { int8: [-128, 127], uint8: [0, 255] };

/** An HWC float tile in [0, 1] -> the model's input data (typed array in its dtype and layout). */
export function encode(spec, tile, h, w) {
  const c = spec.channels;
  const out = spec.dtype === 'float32' ? new Float32Array(h * w * c)
    : spec.dtype === 'int8' ? new Int8Array(h * w * c) : new Uint8Array(h * w * c);
  const [qmin, qmax] = QRANGE[spec.dtype] || [0, 0];
  const ranged = spec.lo !== 0 || spec.hi !== 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        let v = tile[(y * w + x) * c + k];
        if (ranged) v = v * (spec.hi - spec.lo) + spec.lo;
        const i = spec.layout === 'NHWC' ? (y * w + x) * c + k : (k * h + y) * w + x;
        if (spec.quantized) {
          // float32 arithmetic like numpy: float32(x) / float32(scale), rounded half to even
          const q = roundHalfEven(Math.fround(Math.fround(v) / Math.fround(spec.scale))) + spec.zeroPoint;
          out[i] = Math.min(qmax, Math.max(qmin, q));
        } else {
          out[i] = v;
        }
      }
    }
  }
  return out;
}

function roundHalfEven(v) {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The model's output data -> HWC float tile in [0, 1] (not clipped). */
export function decode(spec, data, h, w) {
  const c = spec.channels;
  const tile = new Float32Array(h * w * c);
  const ranged = spec.lo !== 0 || spec.hi !== 1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) {
        const i = spec.layout === 'NHWC' ? (y * w + x) * c + k : (k * h + y) * w + x;
        let v = spec.quantized ? Math.fround((data[i] - spec.zeroPoint) * Math.fround(spec.scale)) : data[i];
        if (ranged) v = (v - spec.lo) / (spec.hi - spec.lo);
        tile[(y * w + x) * c + k] = v;
      }
    }
  }
  return tile;
}

function toUint8(v) {
  const c = v < 0 ? 0 : v > 1 ? 1 : v;
  return Math.floor(Math.fround(Math.fround(c * 255) + 0.5));
}

/**
 * Restore RGBA ImageData-like {data, width, height} with `infer(tileHWC, h, w) -> Promise<tileHWC>`.
 * Fixed-shape models are tiled at the manifest's tile size (reflect-padded when smaller);
 * dynamic ones run whole (padded to pad_multiple) up to maxPixels. Returns {rgba, tiles, tileMs}.
 */
export async function restore(man, img, infer, { maxPixels = 2_000_000, onTile } = {}) {
  const { width: w, height: h } = img;
  const c = man.input.channels;
  const src = (y, x, k) => {
    const p = (y * w + x) * 4;
    return c === 3 ? img.data[p + k] / 255 : (img.data[p] + img.data[p + 1] + img.data[p + 2]) / 765;
  };
  const tiled = !man.dynamic || h * w > maxPixels;
  const m = man.padMultiple;
  const t = man.tile;
  const ph = tiled ? Math.max(t, h) : Math.ceil(h / m) * m;
  const pw = tiled ? Math.max(t, w) : Math.ceil(w / m) * m;
  const edge = Math.min(h, w) <= 1;
  const crop = (y0, x0, th, tw) => {
    const a = new Float32Array(th * tw * c);
    for (let i = 0; i < th; i++) {
      const sy = reflect(y0 + i, h, edge);
      for (let j = 0; j < tw; j++) {
        const sx = reflect(x0 + j, w, edge);
        for (let k = 0; k < c; k++) a[(i * tw + j) * c + k] = src(sy, sx, k);
      }
    }
    return a;
  };
  const rgba = new Uint8ClampedArray(w * h * 4);
  const put = (y, x, vals) => {
    const p = (y * w + x) * 4;
    for (let k = 0; k < 3; k++) rgba[p + k] = toUint8(vals[c === 3 ? k : 0]);
    rgba[p + 3] = 255;
  };
  const tileMs = [];
  const timed = async (a, th, tw, done, total) => {
    const t0 = performance.now();
    const r = await infer(a, th, tw);
    tileMs.push(performance.now() - t0);
    if (onTile) onTile(done, total);
    return r;
  };
  if (!tiled || (ph === t && pw === t)) {
    const r = await timed(crop(0, 0, ph, pw), ph, pw, 1, 1);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) put(y, x, r.subarray((y * pw + x) * c, (y * pw + x) * c + c));
    return { rgba, tiles: 1, tileMs };
  }
  const ys = axisStarts(ph, t, man.overlap);
  const xs = axisStarts(pw, t, man.overlap);
  const ramp = blendRamp(t, man.overlap);
  const wsum = (n, starts) => {
    const s = new Float32Array(n);
    for (const st of starts) for (let i = 0; i < t && st + i < n; i++) s[st + i] += ramp[i];
    return s;
  };
  const wy = wsum(ph, ys);
  const wx = wsum(pw, xs);
  let band = new Float32Array(t * pw * c);
  let top = 0;
  const total = ys.length * xs.length;
  let done = 0;
  const px = new Float32Array(c);
  for (let row = 0; row < ys.length; row++) {
    const y0 = ys[row];
    const shift = y0 - top;
    if (shift > 0) {
      band.copyWithin(0, shift * pw * c);
      band.fill(0, Math.max(0, t - shift) * pw * c);
    }
    top = y0;
    for (const x0 of xs) {
      const r = await timed(crop(y0, x0, t, t), t, t, ++done, total);
      for (let i = 0; i < t; i++) {
        for (let j = 0; j < t; j++) {
          const win = Math.fround(ramp[i] * ramp[j]);
          const b = (i * pw + x0 + j) * c;
          const q = (i * t + j) * c;
          for (let k = 0; k < c; k++) band[b + k] += r[q + k] * win;
        }
      }
    }
    const doneTo = row + 1 < ys.length ? ys[row + 1] : ph;
    for (let y = top; y < Math.min(doneTo, h); y++) {
      for (let x = 0; x < w; x++) {
        const norm = wy[y] * wx[x];
        const b = ((y - top) * pw + x) * c;
        for (let k = 0; k < c; k++) px[k] = band[b + k] / norm;
        put(y, x, px);
      }
    }
  }
  band = null;
  return { rgba, tiles: total, tileMs };
}
