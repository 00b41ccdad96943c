// The PSF-aware deblur pipeline of edgedeblur.runtime.pipeline in the browser: the data step
// (runtime._fft.pad_and_taper, runtime.deconv: Wiener and HQS) in JS on fft.js, the prior
// rounds around an async prior, and the prior on an ONNX artifact through onnxruntime-web
// (RGB + the noise map sigma * 0.02 as the 4th channel, tiles blended in float as
// Runner.restore(x, sigma=...)). The same steps as android-demo/core (DataStep, DeblurPipeline,
// TiledPrior) and firmware/src/edb_deconv.c / edb_pipeline.c. No DOM access.
//
// Images are Float32Array planes in [0, 1]: channel c of an h x w image starts at c h w.
// Kernels are kh x kw Float32Array, row-major, sum 1, centre (kh >> 1, kw >> 1).
import { nextFastLen, RealFft2 } from './fft.js';
import { axisStarts, blendRamp, encode, decode } from './core.js';

export const MIN_SIGMA = 1.0;
export const NOISE_MAP_SCALE = 1 / 50;
const f32 = Math.fround;
const clip01 = (v) => (v < 0 ? 0 : v > 1 ? 1 : v);
const TAPERS = ['mean', 'none', 'blur'];

/** PipelineConfig defaults; `fromPipelineSection(manifest.pipeline)` reads an exported prior's. */
export const DEFAULT_CONFIG = Object.freeze({
  mode: 'hqs', iterations: 3, prior_scale: 30, hqs_sigma_start: 10, hqs_lambda: 0.05, taper: 'mean',
  sigma_max: 15, denoise_sigma_max: 50, kernel_max: 75, linear: true, psf_grid: false,
  grid_prior_scale: 10, grid_iterations: 1, // the gyro loop's Wiener regularisation and prior passes
});

/** The manifest's pipeline section (PipelineConfig.to_dict()); linear "auto" reads as linear light. */
export function fromPipelineSection(section = {}) {
  const cfg = { ...DEFAULT_CONFIG };
  for (const k of Object.keys(DEFAULT_CONFIG)) if (section[k] !== undefined && section[k] !== null) cfg[k] = section[k];
  cfg.linear = section.linear !== false;
  if (!['hqs', 'wiener'].includes(cfg.mode)) throw new Error(`pipeline.mode: given ${cfg.mode}, allowed hqs, wiener`);
  if (!TAPERS.includes(cfg.taper)) throw new Error(`pipeline.taper: given ${cfg.taper}, allowed ${TAPERS.join(', ')}`);
  if (!(cfg.iterations >= 1 && cfg.iterations <= 16)) throw new Error(`pipeline.iterations: given ${cfg.iterations}, allowed 1-16`);
  if (!(Number.isInteger(cfg.grid_iterations) && cfg.grid_iterations >= 1 && cfg.grid_iterations <= 16)) {
    throw new Error(`pipeline.grid_iterations: given ${cfg.grid_iterations}, allowed an integer 1-16`);
  }
  if (!(typeof cfg.grid_prior_scale === 'number' && cfg.grid_prior_scale > 0 && Number.isFinite(cfg.grid_prior_scale))) {
    throw new Error(`pipeline.grid_prior_scale: given ${cfg.grid_prior_scale}, allowed a positive number`);
  }
  return cfg;
}

/** _fft._ramp: 1 over [start, start + length), raised cosine down to 0 outside (float32). */
function ramp(total, start, length) {
  const r = new Float32Array(total).fill(1);
  const after = total - (start + length), pi = f32(Math.PI);
  for (let i = 0; i < start; i++) r[i] = f32(0.5 - f32(0.5 * f32(Math.cos(f32(pi * f32(f32(i + 0.5) / start))))));
  for (let i = 0; i < after; i++) r[start + length + i] = f32(0.5 + f32(0.5 * f32(Math.cos(f32(pi * f32(f32(i + 0.5) / after))))));
  return r;
}

/** numpy.pad "symmetric" index, any distance from the frame. */
function sym(i, n) {
  const j = ((i % (2 * n)) + 2 * n) % (2 * n);
  return j < n ? j : 2 * n - 1 - j;
}

/** 2 - 2 cos(2 pi q / n) in float32, as deconv.gradient_spectrum. */
const gradTerm = (q, n) => f32(2 - f32(2 * f32(Math.cos(f32(f32(f32(2 * Math.PI) * q) / n)))));

/** The data step for one image y (c planes, kept by reference) and kernel (deconv.DataStep). */
export class DataStep {
  constructor(y, h, w, c, kernel, kh, kw, { taper = 'mean', hqs = true } = {}) {
    Object.assign(this, { y, h, w, c, taper });
    this.hp = nextFastLen(h + 2 * (kh + 4));
    this.wp = nextFastLen(w + 2 * (kw + 4));
    this.top = (this.hp - h) >> 1;
    this.left = (this.wp - w) >> 1;
    const { hp, wp } = this;
    this.fft = new RealFft2(hp, wp);
    const bins = this.fft.spectrumLength();
    this.otf = new Float32Array(bins);
    this.spec = new Float32Array(bins);
    this.pad = new Float32Array(hp * wp);
    this.wy = ramp(hp, this.top, h);
    this.wx = ramp(wp, this.left, w);
    this.gfx = Float32Array.from({ length: this.fft.wc }, (_, q) => gradTerm(q, wp));
    this.gfy = Float32Array.from({ length: hp }, (_, i) => gradTerm(i, hp));
    this.cols = Int32Array.from({ length: wp }, (_, j) => sym(j - this.left, w));
    for (let r = 0; r < kh; r++) { // psf2otf: centre rolled to (0, 0)
      for (let q = 0; q < kw; q++) {
        this.pad[(((r - (kh >> 1)) % hp + hp) % hp) * wp + (((q - (kw >> 1)) % wp + wp) % wp)] = kernel[r * kw + q];
      }
    }
    this.fft.forward(this.pad, 0, this.otf);
    const hw = h * w;
    this.mean = new Float32Array(c);
    for (let ch = 0; ch < c; ch++) { // taper "mean": every 4th pixel of every 4th row
      let sum = 0, n = 0;
      for (let r = 0; r < h; r += 4) for (let q = 0; q < w; q += 4) { sum += y[ch * hw + r * w + q]; n++; }
      this.mean[ch] = sum / n;
    }
    const plane = hp * wp;
    this.ext = null;
    if (taper === 'blur') { // towards irfft2(rfft2(reflected) * otf)
      this.ext = new Float32Array(c * plane);
      for (let ch = 0; ch < c; ch++) {
        const e = this.ext.subarray(ch * plane, (ch + 1) * plane);
        this.reflect(ch, e);
        this.fft.forward(e, 0, this.spec);
        mulInPlace(this.spec, this.otf);
        this.fft.inverse(this.spec, this.pad, 0);
        this.blend(e, this.pad, 0);
      }
    }
    this.kty = null;
    if (hqs) {
      this.kty = new Float32Array(c * bins);
      for (let ch = 0; ch < c; ch++) {
        this.extendY(ch, this.pad);
        this.fft.forward(this.pad, 0, this.spec);
        const o = this.otf, s = this.spec, k = this.kty, b = ch * bins;
        for (let i = 0; i < bins; i += 2) { // conj(otf) * F(y)
          k[b + i] = o[i] * s[i] + o[i + 1] * s[i + 1];
          k[b + i + 1] = o[i] * s[i + 1] - o[i + 1] * s[i];
        }
      }
    }
  }

  /** Floats held (OTF, spectrum, plane, conj(K) F(y) for HQS, blur extensions). */
  static floatsNeeded(h, w, c, kh, kw, { taper = 'mean', hqs = true } = {}) {
    const hp = nextFastLen(h + 2 * (kh + 4)), wp = nextFastLen(w + 2 * (kw + 4)), bins = 2 * hp * ((wp >> 1) + 1);
    return 2 * bins + hp * wp + (hqs ? c * bins : 0) + (taper === 'blur' ? c * hp * wp : 0);
  }

  reflect(ch, dst) {
    const { h, w, hp, wp, top, cols, y } = this, base = ch * h * w;
    for (let i = 0; i < hp; i++) {
      const row = base + sym(i - top, h) * w, o = i * wp;
      for (let j = 0; j < wp; j++) dst[o + j] = y[row + cols[j]];
    }
  }

  /** _blend_extension: outside the frame x -= (1 - wy wx) (x - target). */
  blend(x, target, constant) {
    const { h, w, hp, wp, top, left, wy, wx } = this;
    for (let i = 0; i < hp; i++) {
      const inside = i >= top && i < top + h, o = i * wp;
      for (let j = 0; j < wp; j++) {
        if (inside && j === left) { j = left + w - 1; continue; }
        const weight = f32(wy[i] * wx[j]);
        const goal = target ? target[o + j] : constant;
        x[o + j] -= f32(f32(1 - weight) * f32(x[o + j] - goal));
      }
    }
  }

  extendY(ch, dst) {
    const plane = this.hp * this.wp;
    if (this.ext) { dst.set(this.ext.subarray(ch * plane, (ch + 1) * plane)); return; }
    this.reflect(ch, dst);
    if (this.taper === 'mean') this.blend(dst, null, this.mean[ch]);
  }

  crop(out, off) {
    const { h, w, wp, top, left, pad } = this;
    for (let i = 0; i < h; i++) out.set(pad.subarray((i + top) * wp + left, (i + top) * wp + left + w), off + i * w);
  }

  /** deconv.wiener_deconvolve(y, kernel, nsr=nsr): c planes, not clipped. */
  wiener(nsr, out = new Float32Array(this.c * this.h * this.w)) {
    if (!(nsr > 0 && nsr < 1e30)) throw new Error(`nsr must be a positive number, given ${nsr}`);
    const n32 = f32(nsr), { hp, otf, spec, gfx, gfy } = this, wc = this.fft.wc;
    for (let ch = 0; ch < this.c; ch++) {
      this.extendY(ch, this.pad);
      this.fft.forward(this.pad, 0, spec);
      for (let i = 0; i < hp; i++) {
        for (let j = 0; j < wc; j++) {
          const k = 2 * (i * wc + j), or = otf[k], oi = otf[k + 1];
          const den = f32(f32(f32(or * or) + f32(oi * oi)) + f32(n32 * f32(gfy[i] + gfx[j])));
          const scl = f32(1 / den), fr = f32(or * scl), fi = f32(-oi * scl);
          const ar = spec[k], ai = spec[k + 1];
          spec[k] = ar * fr - ai * fi;
          spec[k + 1] = ar * fi + ai * fr;
        }
      }
      this.fft.inverse(spec, this.pad, 0);
      this.crop(out, ch * this.h * this.w);
    }
    return out;
  }

  /** DataStep.solve(z, rho): argmin ||k * x - y||^2 + rho ||x - z||^2; out may be z. */
  solve(z, rho, out = new Float32Array(this.c * this.h * this.w)) {
    if (!this.kty) throw new Error('this data step was made without hqs');
    if (!(rho > 0 && rho < 1e30)) throw new Error(`HQS rho must be a positive number, given ${rho}`);
    const r32 = f32(rho), { h, w, wp, top, left, otf, spec, kty, pad } = this, hw = h * w, bins = spec.length;
    for (let ch = 0; ch < this.c; ch++) {
      this.extendY(ch, pad); // z inside the frame, y's tapered extension outside
      for (let r = 0; r < h; r++) pad.set(z.subarray(ch * hw + r * w, ch * hw + r * w + w), (r + top) * wp + left);
      this.fft.forward(pad, 0, spec);
      const b = ch * bins;
      for (let i = 0; i < bins; i += 2) {
        const scl = f32(1 / f32(f32(f32(otf[i] * otf[i]) + f32(otf[i + 1] * otf[i + 1])) + r32));
        spec[i] = (spec[i] * r32 + kty[b + i]) * scl;
        spec[i + 1] = (spec[i + 1] * r32 + kty[b + i + 1]) * scl;
      }
      this.fft.inverse(spec, pad, 0);
      this.crop(out, ch * hw);
    }
    return out;
  }
}

function mulInPlace(s, k) {
  for (let i = 0; i < s.length; i += 2) {
    const ar = s[i], ai = s[i + 1];
    s[i] = ar * k[i] - ai * k[i + 1];
    s[i + 1] = ar * k[i + 1] + ai * k[i];
  }
}

/** deconv.estimate_noise_sigma (0-255 scale, mean over channels). */
export function noiseSigma(img, h, w, c) {
  if (h < 3 || w < 3) return 0;
  let rows = 0, total = 0;
  for (let i = 0; i < h - 2; i += 4) rows++;
  const d = (p) => f32(f32(img[p] - f32(2 * img[p + 1])) + img[p + 2]);
  for (let ch = 0; ch < c; ch++) {
    let sum = 0;
    for (let i = 0; i < h - 2; i += 4) {
      const r0 = ch * h * w + i * w;
      for (let j = 0; j < w - 2; j++) sum += Math.abs(f32(f32(d(r0 + j) - f32(2 * d(r0 + w + j))) + d(r0 + 2 * w + j)));
    }
    total += Math.sqrt(Math.PI / 2) / (6 * rows * (w - 2)) * sum;
  }
  return total / c * 255;
}

/** deconv.wiener_nsr: sigma^2 / (prior_scale G). */
export function wienerNsr(img, h, w, c, sigma, priorScale) {
  const s = Math.max(sigma, MIN_SIGMA / 4), noiseVar = (s / 255) * (s / 255);
  let gy = 0, gx = 0, ny = 0, nx = 0;
  for (let ch = 0; ch < c; ch++) {
    const b = ch * h * w;
    for (let i = 1; i < h; i += 4) for (let j = 0; j < w; j++) { const v = f32(img[b + i * w + j] - img[b + (i - 1) * w + j]); gy += f32(v * v); ny++; }
    for (let i = 0; i < h; i++) for (let j = 1; j < w; j += 4) { const v = f32(img[b + i * w + j] - img[b + i * w + j - 1]); gx += f32(v * v); nx++; }
  }
  const power = (ny ? gy / ny : 0) + (nx ? gx / nx : 0) - 4 * noiseVar;
  return noiseVar / (priorScale * Math.max(power, 1e-4));
}

const E_INV = f32(1 / 2.4), E = f32(2.4);
/** The inverse sRGB curve (clips first), float32; in === out allowed. */
export function srgbToLinear(x, out = new Float32Array(x.length)) {
  for (let i = 0; i < x.length; i++) {
    const v = clip01(x[i]);
    out[i] = v <= f32(0.04045) ? f32(v / f32(12.92)) : f32(Math.pow(f32(f32(v + f32(0.055)) / f32(1.055)), E));
  }
  return out;
}

/** The sRGB curve (clips first), float32; in === out allowed. */
export function linearToSrgb(x, out = new Float32Array(x.length)) {
  for (let i = 0; i < x.length; i++) {
    const v = clip01(x[i]);
    out[i] = v <= f32(0.0031308) ? f32(v * f32(12.92)) : f32(f32(f32(1.055) * f32(Math.pow(v, E_INV))) - f32(0.055));
  }
  return out;
}

/** DeblurPipeline._sigma: the prior's level (given or estimated), refused outside its range. */
export function pickSigma(img, h, w, sigma, limit) {
  if (sigma === null || sigma === undefined || sigma < 0) {
    const s = Math.max(noiseSigma(img, h, w, 3), MIN_SIGMA);
    if (limit < s && s <= 1.2 * limit) return limit;
    if (s > limit) throw new Error(`estimated noise level ${s.toFixed(1)} is above what the deblur prior was trained for (<= ${limit}); denoise first`);
    return s;
  }
  if (!(sigma <= limit)) throw new Error(`noise level ${sigma} outside 0-${limit} (0-255 scale)`);
  return Math.max(sigma, MIN_SIGMA / 2);
}

/** numpy.geomspace(a, b, n)[k]. */
export function geom(a, b, k, n) {
  if (k === 0) return a;
  if (k === n - 1) return b;
  const la = Math.log10(a);
  return Math.pow(10, k * ((Math.log10(b) - la) / (n - 1)) + la);
}

const toPrior = (x, linear) => (linear ? linearToSrgb(x, x) : x.forEach((v, i) => { x[i] = clip01(v); }) || x);

/**
 * DeblurPipeline.restore(image, kernel=..., sigma=...) for a given PSF. rgb: packed RGB or RGBA
 * bytes (`channels` 3 or 4), h x w; prior: async (planes, h, w, sigma) => planes. sigma < 0 or
 * null: estimated. Returns {rgb: Uint8Array h w 3, sigma, dataMs, priorMs, priorCalls}.
 */
export async function deblur(cfg, rgb, h, w, kernel, kh, kw, sigma, prior, { channels = 3 } = {}) {
  if (h < 8 || w < 8) throw new Error(`image to deblur must be at least 8 x 8, given ${h} x ${w}`);
  if (kh > cfg.kernel_max || kw > cfg.kernel_max || kh > h || kw > w || kernel.length !== kh * kw) {
    throw new Error(`PSF of ${kh} x ${kw} refused: at most ${cfg.kernel_max} px and not larger than the image`);
  }
  if (!kernel.every(Number.isFinite)) throw new Error('the PSF has a non-finite value');
  const hw = h * w, n3 = 3 * hw, img = new Float32Array(n3);
  for (let i = 0; i < hw; i++) for (let c = 0; c < 3; c++) img[c * hw + i] = rgb[channels * i + c] / 255;
  const blurred = kh * kw > 1;
  const s = pickSigma(img, h, w, sigma, blurred ? cfg.sigma_max : cfg.denoise_sigma_max);
  const stats = { sigma: s, dataMs: 0, priorMs: 0, priorCalls: 0 };
  const callPrior = async (x, sk) => {
    const t0 = performance.now();
    const z = await prior(x, h, w, sk);
    stats.priorMs += performance.now() - t0;
    stats.priorCalls++;
    if (!z || z.length < n3) throw new Error('the prior returned too few values');
    return z;
  };
  let z;
  if (!blurred) {
    z = await callPrior(img, s);
  } else {
    // the gyro loop (_restore_grid): grid_prior_scale and grid_iterations take prior_scale's and iterations' roles
    const rounds = cfg.mode === 'hqs' ? (cfg.psf_grid ? cfg.grid_iterations : cfg.iterations) : 1;
    const priorScale = cfg.psf_grid ? cfg.grid_prior_scale : cfg.prior_scale;
    const s0 = rounds > 1 ? Math.max(cfg.hqs_sigma_start, s) : s;
    const linear = cfg.linear;
    let t0 = performance.now();
    let nsr;
    if (linear) { // in_linear_light: the sRGB frame is not needed again
      srgbToLinear(img, img);
      nsr = wienerNsr(img, h, w, 3, Math.max(noiseSigma(img, h, w, 3), MIN_SIGMA / 2), priorScale);
    } else {
      nsr = wienerNsr(img, h, w, 3, s, priorScale);
    }
    const step = new DataStep(img, h, w, 3, kernel, kh, kw, { taper: cfg.taper, hqs: rounds > 1 && !cfg.psf_grid });
    const x = toPrior(step.wiener(nsr), linear);
    stats.dataMs += performance.now() - t0;
    z = await callPrior(x, s0);
    for (let k = 1; k < rounds; k++) {
      const sk = geom(s0, s, k, rounds), rho = cfg.hqs_lambda * s * s / (sk * sk);
      if (cfg.psf_grid) { z = await callPrior(z, sk); continue; } // the gyro loop: prior passes only
      t0 = performance.now();
      step.solve(linear ? srgbToLinear(z, x) : z, rho, x);
      toPrior(x, linear);
      stats.dataMs += performance.now() - t0;
      z = await callPrior(x, sk);
    }
  }
  const out = new Uint8Array(n3);
  for (let i = 0; i < hw; i++) {
    for (let c = 0; c < 3; c++) out[3 * i + c] = Math.floor(f32(f32(clip01(z[c * hw + i]) * 255) + 0.5)) || 0;
  }
  return { rgb: out, ...stats };
}

/** The golden stand-in prior (tests/golden/deblur.json): x + min(1, sigma / 25) (box3(x) - x). */
export function standInPrior(x, h, w, sigma) {
  const hw = h * w, out = new Float32Array(3 * hw), a = f32(Math.min(1, sigma / 25));
  const v = Float32Array.from(x, clip01);
  for (let c = 0; c < 3; c++) {
    for (let r = 0; r < h; r++) {
      for (let q = 0; q < w; q++) {
        let box = 0;
        for (let i = -1; i <= 1; i++) {
          for (let j = -1; j <= 1; j++) box = f32(box + v[c * hw + Math.min(h - 1, Math.max(0, r + i)) * w + Math.min(w - 1, Math.max(0, q + j))]);
        }
        const p = c * hw + r * w + q;
        out[p] = f32(v[p] + f32(a * f32(f32(box / 9) - v[p])));
      }
    }
  }
  return out;
}

function reflectIndex(i, n) { // numpy "reflect" for the bottom/right padding of the runner
  if (i < n) return i;
  const p = 2 * (n - 1), r = i % p;
  return r < n ? r : p - r;
}

/**
 * The prior on an ONNX artifact (Runner.restore(x, sigma=...)): RGB + noise map in, tiles on the
 * runtime's grid (fixed-shape models; dynamic ones run the whole frame padded to pad_multiple up
 * to maxPixels) blended in float; outputs clipped to [0, 1]. man: core.js readManifest of a
 * prior (noiseMap); infer: async (data, dims) => output data.
 */
export function onnxPrior(man, infer, { maxPixels = 2_000_000 } = {}) {
  return async (x, h, w, sigma) => {
    const hw = h * w, noise = f32(sigma * NOISE_MAP_SCALE);
    const tiled = !man.dynamic || hw > maxPixels, t = man.tile, m = man.padMultiple || 1;
    const ph = tiled ? Math.max(t, h) : Math.ceil(h / m) * m, pw = tiled ? Math.max(t, w) : Math.ceil(w / m) * m;
    const [th, tw] = tiled ? [t, t] : [ph, pw];
    const ys = tiled ? axisStarts(ph, t, man.overlap) : [0], xs = tiled ? axisStarts(pw, t, man.overlap) : [0];
    const single = ys.length === 1 && xs.length === 1;
    const rmp = single ? null : blendRamp(t, man.overlap);
    const acc = new Float32Array(3 * hw);
    const tile = new Float32Array(th * tw * 4);
    for (const y0 of ys) {
      for (const x0 of xs) {
        for (let i = 0; i < th; i++) {
          const sy = reflectIndex(y0 + i, h);
          for (let j = 0; j < tw; j++) {
            const sx = reflectIndex(x0 + j, w), o = 4 * (i * tw + j);
            for (let c = 0; c < 3; c++) tile[o + c] = clip01(x[c * hw + sy * w + sx]);
            tile[o + 3] = noise;
          }
        }
        const spec = man.input;
        const dims = spec.layout === 'NCHW' ? [1, 4, th, tw] : [1, th, tw, 4];
        const res = decode(man.output, await infer(encode(spec, tile, th, tw), dims), th, tw);
        for (let i = 0; i < th && y0 + i < h; i++) {
          for (let j = 0; j < tw && x0 + j < w; j++) {
            const win = single ? 1 : f32(rmp[i] * rmp[j]), p = (y0 + i) * w + x0 + j, q = 3 * (i * tw + j);
            for (let c = 0; c < 3; c++) acc[c * hw + p] += single ? res[q + c] : f32(res[q + c] * win);
          }
        }
      }
    }
    if (!single) {
      const wsum = (n, starts) => {
        const s = new Float32Array(n);
        for (const st of starts) for (let i = 0; i < t && st + i < n; i++) s[st + i] += rmp[i];
        return s;
      };
      const wy = wsum(ph, ys), wx = wsum(pw, xs);
      for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) {
        const norm = f32(wy[y] * wx[xx]);
        for (let c = 0; c < 3; c++) acc[c * hw + y * w + xx] /= norm;
      }
    }
    for (let i = 0; i < acc.length; i++) acc[i] = clip01(acc[i]);
    return acc;
  };
}
