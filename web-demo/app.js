// Page logic: load the manifest + ONNX artifact, take a photo, restore it with core.js tiling.
// ?manifest=<url of a *.manifest.json> picks the model (default: model/model.manifest.json).
import * as ort from './vendor/ort.wasm.min.mjs';
import { readManifest, restore, encode, decode } from './core.js';
import { deblur, fromPipelineSection, onnxPrior } from './deblur.js';

const $ = (id) => document.getElementById(id);
const state = { man: null, session: null, image: null, result: null, psf: null };
window.edgedeblurDemo = state; // read by the automated test (tests/test_web_demo.py)

ort.env.wasm.wasmPaths = new URL('./vendor/', import.meta.url).href;
// threads need cross-origin isolation (COOP/COEP headers); a plain static server gives one thread
ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;

async function sha256Hex(buf) {
  if (!crypto.subtle) return null; // not a secure context (plain http from another device)
  const d = await crypto.subtle.digest('SHA-256', buf);
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function loadModel() {
  const url = new URL(new URLSearchParams(location.search).get('manifest') || 'model/model.manifest.json', location.href);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`manifest ${url} not found (${res.status}); copy edge-export output next to the page (see docs/web-demo.md)`);
  const man = readManifest(await res.json());
  const art = await fetch(new URL(man.file, url));
  if (!art.ok) throw new Error(`artifact ${man.file} named in the manifest is missing (${art.status})`);
  const buf = await art.arrayBuffer();
  if (man.bytes && buf.byteLength !== man.bytes) throw new Error(`${man.file}: ${buf.byteLength} bytes, manifest says ${man.bytes} (truncated?)`);
  const digest = await sha256Hex(buf);
  if (digest && man.sha256 && digest !== man.sha256) throw new Error(`${man.file}: sha256 differs from the manifest`);
  const t0 = performance.now();
  state.session = await ort.InferenceSession.create(buf, { executionProviders: ['wasm'] });
  state.loadMs = performance.now() - t0;
  state.man = man;
  $('psfbox').hidden = !man.noiseMap; // a deblur prior (edge-export deblur): the pipeline with a PSF
  $('model').textContent = `Model ${man.name} (${man.precision}, ${man.input.dtype} ${man.input.layout}), tile ${man.tile}/${man.overlap}` +
    `, loaded in ${state.loadMs.toFixed(0)} ms, ${ort.env.wasm.numThreads} thread(s)` + (digest ? ', sha256 ok' : ', sha256 not checked (insecure context)');
}

async function infer(tile, h, w) {
  const { man, session } = state;
  const spec = man.input;
  const dims = spec.layout === 'NCHW' ? [1, spec.channels, h, w] : [1, h, w, spec.channels];
  const feeds = { [session.inputNames[0]]: new ort.Tensor(spec.dtype, encode(spec, tile, h, w), dims) };
  const out = await session.run(feeds);
  return decode(man.output, out[session.outputNames[0]].data, h, w);
}

/** A PSF from a grey image: the mean of R, G, B per pixel, normalised to sum 1 (as load_kernel). */
async function takePsf(file) {
  const bmp = await createImageBitmap(file);
  const cv = new OffscreenCanvas(bmp.width, bmp.height);
  const ctx = cv.getContext('2d');
  ctx.drawImage(bmp, 0, 0);
  const d = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
  const k = new Float32Array(bmp.width * bmp.height);
  for (let i = 0; i < k.length; i++) k[i] = (d[4 * i] + d[4 * i + 1] + d[4 * i + 2]) / 765;
  const sum = k.reduce((a, b) => a + b, 0);
  if (!(sum > 0)) throw new Error('the PSF image is black');
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  state.psf = { k, h: bmp.height, w: bmp.width };
  $('status').textContent = `PSF ${bmp.width} × ${bmp.height}.`;
}

/** The deblur pipeline (deblur.js): JS data steps, the prior on this ONNX artifact. */
async function runDeblur() {
  const { man, image } = state;
  const psf = state.psf || { k: Float32Array.of(1), h: 1, w: 1 };
  const infer = async (data, dims) => {
    const out = await state.session.run({ [state.session.inputNames[0]]: new ort.Tensor(man.input.dtype, data, dims) });
    return out[state.session.outputNames[0]].data;
  };
  const r = await deblur(fromPipelineSection(man.pipeline || {}), image.data, image.height, image.width, psf.k, psf.h,
    psf.w, null, onnxPrior(man, infer), { channels: 4 });
  const rgba = new Uint8ClampedArray(image.width * image.height * 4);
  for (let i = 0; i < image.width * image.height; i++) {
    rgba.set(r.rgb.subarray(3 * i, 3 * i + 3), 4 * i);
    rgba[4 * i + 3] = 255;
  }
  return { rgba, tiles: r.priorCalls, tileMs: [r.priorMs / r.priorCalls], dataMs: r.dataMs, sigma: r.sigma, psf };
}

async function takeFile(file) {
  const bmp = await createImageBitmap(file, { imageOrientation: 'from-image' });
  const cv = $('before');
  cv.width = bmp.width; cv.height = bmp.height;
  const ctx = cv.getContext('2d');
  ctx.drawImage(bmp, 0, 0);
  state.image = ctx.getImageData(0, 0, bmp.width, bmp.height);
  state.result = null;
  $('after').width = bmp.width; $('after').height = bmp.height;
  $('after').getContext('2d').clearRect(0, 0, bmp.width, bmp.height);
  $('status').textContent = `Photo ${bmp.width} × ${bmp.height}. Press Restore.`;
  $('run').disabled = !state.session;
}

async function run() {
  $('run').disabled = true;
  state.done = false;
  try {
    const t0 = performance.now();
    const r = state.man.noiseMap ? await runDeblur() : await restore(state.man, state.image, infer, {
      onTile: (d, n) => { $('status').textContent = `tile ${d} of ${n}`; },
    });
    const totalMs = performance.now() - t0;
    const sorted = [...r.tileMs].sort((a, b) => a - b);
    const out = new ImageData(r.rgba, state.image.width, state.image.height);
    $('after').getContext('2d').putImageData(out, 0, 0);
    state.result = { rgba: r.rgba, tiles: r.tiles, tileMs: r.tileMs, totalMs };
    $('status').textContent = r.psf
      ? `Deblurred ${state.image.width} × ${state.image.height} (PSF ${r.psf.w} × ${r.psf.h}, sigma ${r.sigma.toFixed(1)}): ` +
        `${r.tiles} prior passes, data steps ${r.dataMs.toFixed(0)} ms, ${totalMs.toFixed(0)} ms per image`
      : `Restored ${state.image.width} × ${state.image.height}: ${r.tiles} tiles, ` +
        `median ${sorted[sorted.length >> 1].toFixed(1)} ms per tile, ${totalMs.toFixed(0)} ms per image`;
    setSplit();
  } catch (e) {
    $('status').textContent = `Error: ${e.message}`;
    state.error = e.message;
  } finally {
    state.done = true;
    $('run').disabled = false;
  }
}

function setSplit() {
  const v = $('split').value;
  $('after').style.clipPath = `inset(0 0 0 ${v}%)`;
}

$('file').addEventListener('change', (e) => e.target.files[0] && takeFile(e.target.files[0]));
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault(); drop.classList.remove('over');
  if (e.dataTransfer.files[0]) takeFile(e.dataTransfer.files[0]);
});
$('psf').addEventListener('change', (e) => e.target.files[0] &&
  takePsf(e.target.files[0]).catch((err) => { $('status').textContent = `Error: ${err.message}`; }));
$('run').addEventListener('click', run);
$('split').addEventListener('input', setSplit);
loadModel().then(() => { state.ready = true; if (state.image) $('run').disabled = false; })
  .catch((e) => { $('model').textContent = `Model not loaded: ${e.message}`; state.error = e.message; state.ready = true; });
