// FFT of any length for the deblur data step (web-demo/deblur.js): the same algorithm as
// android-demo/core Fft / RealFft2 and firmware/src/edb_fft.c. Complex data is interleaved
// (re, im) in a Float32Array. 5-smooth lengths run a self-sorting Stockham transform of radix
// 4, 2, 3 and 5 (no bit reversal); other lengths Bluestein's chirp-z through a power-of-two FFT
// of at least 2n - 1 points. Forward X[k] = sum x[j] exp(-2 pi i jk / n) (numpy.fft.fft); the
// inverse is unnormalised. A plan owns its scratch: one plan per concurrent use.

const S60 = Math.sin(Math.PI / 3);
const C72 = Math.cos(2 * Math.PI / 5);
const C144 = Math.cos(4 * Math.PI / 5);
const S72 = Math.sin(2 * Math.PI / 5);
const S144 = Math.sin(4 * Math.PI / 5);

/** Radices 4, 2, 3, 5 whose product is n, or null when n has another prime factor. */
export function smoothFactors(n) {
  const out = [];
  let rest = n;
  while (rest % 4 === 0) { out.push(4); rest /= 4; }
  for (const p of [2, 3, 5]) while (rest % p === 0) { out.push(p); rest /= p; }
  return rest === 1 ? out : null;
}

/** The smallest 2^a 3^b 5^c >= n (scipy.fft.next_fast_len(n, real=True)). */
export function nextFastLen(n) {
  let m = Math.max(1, n);
  while (!smoothFactors(m)) m++;
  return m;
}

export class Fft {
  constructor(n) {
    if (!(n >= 1)) throw new Error(`FFT length must be at least 1, given ${n}`);
    this.n = n;
    const factors = smoothFactors(n);
    if (factors) {
      this.radix = factors;
      this.twiddle = [];
      let len = n;
      for (const r of factors) {
        const m = len / r;
        const t = new Float64Array(2 * m * (r - 1));
        for (let p = 0; p < m; p++) {
          for (let j = 1; j < r; j++) {
            const a = -2 * Math.PI * ((j * p) % len) / len;
            t[2 * (p * (r - 1) + j - 1)] = Math.cos(a);
            t[2 * (p * (r - 1) + j - 1) + 1] = Math.sin(a);
          }
        }
        this.twiddle.push(t);
        len = m;
      }
      this.scratch = new Float32Array(2 * n);
      return;
    }
    let m = 1;
    while (m < 2 * n - 1) m *= 2;
    this.inner = new Fft(m);
    this.chirp = new Float64Array(2 * n);
    for (let j = 0; j < n; j++) {
      const q = Number((BigInt(j) * BigInt(j)) % BigInt(2 * n)); // exact phase: j^2 mod 2n
      this.chirp[2 * j] = Math.cos(-Math.PI * q / n);
      this.chirp[2 * j + 1] = Math.sin(-Math.PI * q / n);
    }
    this.kernelSpec = new Float32Array(2 * m);
    for (let j = 0; j < n; j++) { // conj(chirp) / m, wrapped at j and m - j
      const re = this.chirp[2 * j] / m, im = -this.chirp[2 * j + 1] / m;
      this.kernelSpec[2 * j] = re; this.kernelSpec[2 * j + 1] = im;
      if (j > 0) { this.kernelSpec[2 * (m - j)] = re; this.kernelSpec[2 * (m - j) + 1] = im; }
    }
    this.inner.forward(this.kernelSpec, 0);
    this.conv = new Float32Array(2 * m);
  }

  /** In place forward transform of x[off .. off + 2n). */
  forward(x, off = 0) {
    if (this.inner) this.bluestein(x, off);
    else this.stockham(x, off);
  }

  /** In place unnormalised inverse: conj(forward(conj(x))). */
  inverse(x, off = 0) {
    const n = this.n;
    for (let i = 0; i < n; i++) x[off + 2 * i + 1] = -x[off + 2 * i + 1];
    this.forward(x, off);
    for (let i = 0; i < n; i++) x[off + 2 * i + 1] = -x[off + 2 * i + 1];
  }

  bluestein(x, off) {
    const n = this.n, m = this.inner.n, a = this.conv, c = this.chirp, b = this.kernelSpec;
    for (let j = 0; j < n; j++) {
      const xr = x[off + 2 * j], xi = x[off + 2 * j + 1];
      a[2 * j] = xr * c[2 * j] - xi * c[2 * j + 1];
      a[2 * j + 1] = xr * c[2 * j + 1] + xi * c[2 * j];
    }
    a.fill(0, 2 * n);
    this.inner.forward(a, 0);
    for (let k = 0; k < m; k++) {
      const ar = a[2 * k], ai = a[2 * k + 1];
      a[2 * k] = ar * b[2 * k] - ai * b[2 * k + 1];
      a[2 * k + 1] = ar * b[2 * k + 1] + ai * b[2 * k];
    }
    this.inner.inverse(a, 0);
    for (let k = 0; k < n; k++) {
      const ar = a[2 * k], ai = a[2 * k + 1];
      x[off + 2 * k] = ar * c[2 * k] - ai * c[2 * k + 1];
      x[off + 2 * k + 1] = ar * c[2 * k + 1] + ai * c[2 * k];
    }
  }

  stockham(x, off) {
    let src = x, so = off, dst = this.scratch, dso = 0, len = this.n, s = 1;
    for (let st = 0; st < this.radix.length; st++) {
      const r = this.radix[st], m = len / r, tw = this.twiddle[st];
      if (r === 4) pass4(src, so, dst, dso, m, s, tw);
      else if (r === 2) pass2(src, so, dst, dso, m, s, tw);
      else if (r === 3) pass3(src, so, dst, dso, m, s, tw);
      else pass5(src, so, dst, dso, m, s, tw);
      [src, so, dst, dso] = [dst, dso, src, so];
      len = m;
      s *= r;
    }
    if (src !== x) x.set(src.subarray(so, so + 2 * this.n), off);
  }
}

// Every pass: input element (q, p + k m) at 2 (q + s (p + k m)), output (q, r p + j) at
// 2 (q + s (r p + j)), output j multiplied by twiddle (p, j).
function pass2(a, ao, b, bo, m, s, tw) {
  for (let p = 0; p < m; p++) {
    const wr = tw[2 * p], wi = tw[2 * p + 1];
    for (let q = 0; q < s; q++) {
      const i0 = ao + 2 * (q + s * p), i1 = i0 + 2 * s * m, o = bo + 2 * (q + 2 * s * p);
      const x0r = a[i0], x0i = a[i0 + 1], x1r = a[i1], x1i = a[i1 + 1];
      b[o] = x0r + x1r; b[o + 1] = x0i + x1i;
      const dr = x0r - x1r, di = x0i - x1i;
      b[o + 2 * s] = dr * wr - di * wi; b[o + 2 * s + 1] = dr * wi + di * wr;
    }
  }
}

function put(b, o, yr, yi, tw, t) {
  const wr = tw[t], wi = tw[t + 1];
  b[o] = yr * wr - yi * wi;
  b[o + 1] = yr * wi + yi * wr;
}

function pass4(a, ao, b, bo, m, s, tw) {
  const step = 2 * s * m;
  for (let p = 0; p < m; p++) {
    const t = 6 * p;
    for (let q = 0; q < s; q++) {
      const i0 = ao + 2 * (q + s * p), o = bo + 2 * (q + 4 * s * p);
      const x0r = a[i0], x0i = a[i0 + 1], x1r = a[i0 + step], x1i = a[i0 + step + 1];
      const x2r = a[i0 + 2 * step], x2i = a[i0 + 2 * step + 1], x3r = a[i0 + 3 * step], x3i = a[i0 + 3 * step + 1];
      const s02r = x0r + x2r, s02i = x0i + x2i, d02r = x0r - x2r, d02i = x0i - x2i;
      const s13r = x1r + x3r, s13i = x1i + x3i, d13r = x1r - x3r, d13i = x1i - x3i;
      b[o] = s02r + s13r; b[o + 1] = s02i + s13i;
      put(b, o + 2 * s, d02r + d13i, d02i - d13r, tw, t);     // d02 - i d13
      put(b, o + 4 * s, s02r - s13r, s02i - s13i, tw, t + 2); // s02 - s13
      put(b, o + 6 * s, d02r - d13i, d02i + d13r, tw, t + 4); // d02 + i d13
    }
  }
}

function pass3(a, ao, b, bo, m, s, tw) {
  const step = 2 * s * m;
  for (let p = 0; p < m; p++) {
    const t = 4 * p;
    for (let q = 0; q < s; q++) {
      const i0 = ao + 2 * (q + s * p), o = bo + 2 * (q + 3 * s * p);
      const x0r = a[i0], x0i = a[i0 + 1], x1r = a[i0 + step], x1i = a[i0 + step + 1];
      const x2r = a[i0 + 2 * step], x2i = a[i0 + 2 * step + 1];
      const tr = x1r + x2r, ti = x1i + x2i, mr = x0r - 0.5 * tr, mi = x0i - 0.5 * ti;
      const dr = S60 * (x1r - x2r), di = S60 * (x1i - x2i);
      b[o] = x0r + tr; b[o + 1] = x0i + ti;
      put(b, o + 2 * s, mr + di, mi - dr, tw, t);     // m - i d
      put(b, o + 4 * s, mr - di, mi + dr, tw, t + 2); // m + i d
    }
  }
}

function pass5(a, ao, b, bo, m, s, tw) {
  const step = 2 * s * m;
  for (let p = 0; p < m; p++) {
    const t = 8 * p;
    for (let q = 0; q < s; q++) {
      const i0 = ao + 2 * (q + s * p), o = bo + 2 * (q + 5 * s * p);
      const x0r = a[i0], x0i = a[i0 + 1], x1r = a[i0 + step], x1i = a[i0 + step + 1];
      const x2r = a[i0 + 2 * step], x2i = a[i0 + 2 * step + 1], x3r = a[i0 + 3 * step], x3i = a[i0 + 3 * step + 1];
      const x4r = a[i0 + 4 * step], x4i = a[i0 + 4 * step + 1];
      const s14r = x1r + x4r, s14i = x1i + x4i, d14r = x1r - x4r, d14i = x1i - x4i;
      const s23r = x2r + x3r, s23i = x2i + x3i, d23r = x2r - x3r, d23i = x2i - x3i;
      // y1, y4 = a -/+ i b;  y2, y3 = c -/+ i d
      const ar = x0r + C72 * s14r + C144 * s23r, ai = x0i + C72 * s14i + C144 * s23i;
      const br = S72 * d14r + S144 * d23r, bi = S72 * d14i + S144 * d23i;
      const cr = x0r + C144 * s14r + C72 * s23r, ci = x0i + C144 * s14i + C72 * s23i;
      const dr = S144 * d14r - S72 * d23r, di = S144 * d14i - S72 * d23i;
      b[o] = x0r + s14r + s23r; b[o + 1] = x0i + s14i + s23i;
      put(b, o + 2 * s, ar + bi, ai - br, tw, t);
      put(b, o + 4 * s, cr + di, ci - dr, tw, t + 2);
      put(b, o + 6 * s, cr - di, ci + dr, tw, t + 4);
      put(b, o + 8 * s, ar - bi, ai + br, tw, t + 6);
    }
  }
}

const BLOCK = 8;

/** 2-D FFT of a real h x w image, spectrum h x (w/2 + 1) complex (numpy.fft.rfft2 layout). */
export class RealFft2 {
  constructor(h, w) {
    this.h = h; this.w = w; this.wc = (w >> 1) + 1;
    this.rows = new Fft(w); this.cols = new Fft(h);
    this.row = new Float32Array(2 * w);
    this.col = new Float32Array(BLOCK * 2 * h);
  }

  spectrumLength() { return 2 * this.h * this.wc; }

  /** rfft2 of img[off .. off + h w) into spec (2 h wc floats); rows two at a time as a + i b. */
  forward(img, off, spec) {
    const { h, w, wc, row } = this;
    for (let r = 0; r < h; r += 2) {
      const pair = r + 1 < h, a = off + r * w;
      for (let j = 0; j < w; j++) { row[2 * j] = img[a + j]; row[2 * j + 1] = pair ? img[a + w + j] : 0; }
      this.rows.forward(row, 0);
      const oa = 2 * r * wc, ob = oa + 2 * wc;
      for (let k = 0; k < wc; k++) {
        const kk = k === 0 ? 0 : w - k;
        const zr = row[2 * k], zi = row[2 * k + 1], cr = row[2 * kk], ci = -row[2 * kk + 1];
        spec[oa + 2 * k] = 0.5 * (zr + cr); spec[oa + 2 * k + 1] = 0.5 * (zi + ci);
        if (pair) { spec[ob + 2 * k] = 0.5 * (zi - ci); spec[ob + 2 * k + 1] = -0.5 * (zr - cr); }
      }
    }
    this.columns(spec, false);
  }

  /** irfft2 of spec (destroyed) into out[off ..]; ignores the imaginary DC / Nyquist parts as numpy. */
  inverse(spec, out, off) {
    const { h, w, wc, row } = this;
    this.columns(spec, true);
    const scale = 1 / (h * w), nyq = w % 2 === 0;
    for (let r = 0; r < h; r += 2) {
      const pair = r + 1 < h, oa = 2 * r * wc, ob = oa + 2 * wc;
      spec[oa + 1] = 0;
      if (nyq) spec[oa + 2 * (wc - 1) + 1] = 0;
      if (pair) { spec[ob + 1] = 0; if (nyq) spec[ob + 2 * (wc - 1) + 1] = 0; }
      for (let k = 0; k < w; k++) { // Z = A + i B over the Hermitian-completed row
        const src = k < wc ? k : w - k, sign = k < wc ? 1 : -1;
        const ar = spec[oa + 2 * src], ai = sign * spec[oa + 2 * src + 1];
        const br = pair ? spec[ob + 2 * src] : 0, bi = pair ? sign * spec[ob + 2 * src + 1] : 0;
        row[2 * k] = ar - bi; row[2 * k + 1] = ai + br;
      }
      this.rows.inverse(row, 0);
      const a = off + r * w;
      for (let j = 0; j < w; j++) {
        out[a + j] = row[2 * j] * scale;
        if (pair) out[a + w + j] = row[2 * j + 1] * scale;
      }
    }
  }

  columns(spec, inverse) {
    const { h, wc, col } = this;
    for (let k0 = 0; k0 < wc; k0 += BLOCK) {
      const nb = Math.min(BLOCK, wc - k0);
      for (let r = 0; r < h; r++) {
        const base = 2 * (r * wc + k0);
        for (let b = 0; b < nb; b++) { col[b * 2 * h + 2 * r] = spec[base + 2 * b]; col[b * 2 * h + 2 * r + 1] = spec[base + 2 * b + 1]; }
      }
      for (let b = 0; b < nb; b++) {
        if (inverse) this.cols.inverse(col, b * 2 * h);
        else this.cols.forward(col, b * 2 * h);
      }
      for (let r = 0; r < h; r++) {
        const base = 2 * (r * wc + k0);
        for (let b = 0; b < nb; b++) { spec[base + 2 * b] = col[b * 2 * h + 2 * r]; spec[base + 2 * b + 1] = col[b * 2 * h + 2 * r + 1]; }
      }
    }
  }
}
