// The deblur golden vectors (tests/golden/deblur.json, benchmarks/make_deblur_golden.py) run
// through web-demo/deblur.js with the stand-in prior. No Node or DOM APIs: the same function
// runs under Node (tests/deblur_golden_check.mjs) and in headless Chromium (tests/run_deblur.mjs).
import { DataStep, deblur, fromPipelineSection, standInPrior } from '../deblur.js';
import { Fft, RealFft2 } from '../fft.js';

/** fft.js against a naive DFT (double) for every length class, and the 2-D real FFT round trip. */
export function checkFft() {
  let worst = 0, roundTrip = 0;
  for (const n of [1, 2, 3, 4, 5, 7, 8, 12, 13, 17, 30, 49, 97, 100, 125, 243, 256, 360, 1000]) {
    const x = Float32Array.from({ length: 2 * n }, (_, i) => Math.sin(i * 1.7 + n) * 0.5);
    const got = x.slice();
    new Fft(n).forward(got, 0);
    let err = 0, ref = 0;
    for (let k = 0; k < n; k++) {
      let re = 0, im = 0;
      for (let j = 0; j < n; j++) {
        const a = -2 * Math.PI * ((j * k) % n) / n;
        re += x[2 * j] * Math.cos(a) - x[2 * j + 1] * Math.sin(a);
        im += x[2 * j] * Math.sin(a) + x[2 * j + 1] * Math.cos(a);
      }
      err = Math.max(err, Math.abs(got[2 * k] - re), Math.abs(got[2 * k + 1] - im));
      ref = Math.max(ref, Math.abs(re), Math.abs(im));
    }
    worst = Math.max(worst, err / ref);
  }
  for (const [h, w] of [[1, 1], [3, 5], [7, 12], [13, 17], [24, 32]]) {
    const img = Float32Array.from({ length: h * w }, (_, i) => (Math.cos(i * 0.9) + 1) / 2);
    const f = new RealFft2(h, w), spec = new Float32Array(f.spectrumLength()), back = new Float32Array(h * w);
    f.forward(img, 0, spec);
    f.inverse(spec, back, 0);
    for (let i = 0; i < img.length; i++) roundTrip = Math.max(roundTrip, Math.abs(back[i] - img[i]));
  }
  return { fftRelErr: worst, rfft2RoundTrip: roundTrip };
}

/** Every stand-in case: prior sigmas and inputs (each round) and the uint8 output against Python. */
export async function checkDeblurGolden(golden) {
  const cases = [];
  for (const cs of golden.cases) {
    const standIn = cs.prior === 'stand-in';
    const cfg = { ...fromPipelineSection(cs.config), psf_grid: cs.psf_grid };
    const seen = [];
    const prior = async (x, h, w, sigma) => {
      seen.push({ sigma, x: Float32Array.from(x, (v) => (v < 0 ? 0 : v > 1 ? 1 : v)) });
      return standInPrior(x, h, w, sigma);
    };
    const { height: h, width: w } = cs;
    const t0 = performance.now();
    const r = await deblur(cfg, Uint8Array.from(cs.image), h, w, Float32Array.from(cs.kernel), cs.kernel_shape[0],
      cs.kernel_shape[1], cs.sigma, prior);
    const ms = performance.now() - t0;
    const compared = standIn ? cs.prior_sigmas.length : 1; // the real prior's later inputs need the model
    let sigmaErr = 0, inputErr = 0;
    for (let k = 0; k < compared; k++) {
      sigmaErr = Math.max(sigmaErr, Math.abs(seen[k].sigma - cs.prior_sigmas[k]) / cs.prior_sigmas[k]);
      if (cs.prior_inputs) {
        const want = cs.prior_inputs[k], got = seen[k].x;
        for (let i = 0; i < h * w; i++) for (let c = 0; c < 3; c++) {
          inputErr = Math.max(inputErr, Math.abs(want[3 * i + c] - got[c * h * w + i]));
        }
      }
    }
    const row = { name: cs.name, prior: cs.prior, priorCalls: seen.length, sigmaRelErr: sigmaErr, priorInputMaxDiff: inputErr, ms };
    if (standIn) {
      let worst = 0, off = 0;
      for (let i = 0; i < cs.output.length; i++) {
        const d = Math.abs(r.rgb[i] - cs.output[i]);
        worst = Math.max(worst, d);
        off += d > 0;
      }
      Object.assign(row, { outputMaxLsb: worst, valuesOff: off, values: cs.output.length });
    }
    cases.push(row);
  }
  const failures = cases.filter((c) => c.sigmaRelErr > 1e-9 || c.priorInputMaxDiff > 1e-4 || c.outputMaxLsb > 1)
    .map((c) => c.name);
  const fft = checkFft();
  if (!(fft.fftRelErr < 1e-5 && fft.rfft2RoundTrip < 1e-5)) failures.push('fft');
  return { fft, cases, failures };
}

/**
 * Times the JS data step like benchmarks/android_deblur_speed.py's Java one: an RGB h x w frame,
 * the 31 x 31 sine-stroke kernel; medians (ms) of setup (DataStep), Wiener and one HQS solve over
 * `runs` calls after 2 warm-up calls, and the floats the data step holds.
 */
export function benchDataStep(h, w, runs = 7) {
  const hw = h * w, y = new Float32Array(3 * hw);
  let seed = 1;
  const rand = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647; };
  for (let c = 0; c < 3; c++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) y[c * hw + i * w + j] = Math.min(1, rand() * 0.2 + 0.2 + 0.5 * j / w);
  const z = y.map((v) => Math.min(1, v + 0.01));
  const k = new Float32Array(31 * 31);
  for (let i = 0; i < 31; i++) k[(15 + Math.round(4 * Math.sin(i / 5))) * 31 + i] = 1 / 31;
  const out = new Float32Array(3 * hw);
  const times = { setup: [], wiener: [], hqs_solve: [] };
  let step;
  for (let r = -2; r < runs; r++) {
    const t0 = performance.now();
    step = new DataStep(y, h, w, 3, k, 31, 31, { taper: 'mean', hqs: true });
    const t1 = performance.now();
    step.wiener(1e-3, out);
    const t2 = performance.now();
    step.solve(z, 0.01, out);
    const t3 = performance.now();
    if (r >= 0) { times.setup.push(t1 - t0); times.wiener.push(t2 - t1); times.hqs_solve.push(t3 - t2); }
  }
  const med = (a) => a.slice().sort((p, q) => p - q)[a.length >> 1];
  return { frame: `${w}x${h} RGB`, padded: `${step.wp}x${step.hp}`, setup_ms: med(times.setup), wiener_ms: med(times.wiener),
    hqs_solve_ms: med(times.hqs_solve), data_step_bytes: 4 * DataStep.floatsNeeded(h, w, 3, 31, 31) };
}
