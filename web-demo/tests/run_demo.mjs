// Drive the demo page in headless Chromium: load the model, choose a photo, restore it, and write
// the restored RGBA bytes, timings and a screenshot. Used by tests/test_web_demo.py.
// usage: node tests/run_demo.mjs <page url> <photo path> <out dir> [chromium path] [PSF image path]
import { chromium } from 'playwright-core';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [url, photo, outDir, exe = '/usr/bin/chromium', psf] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: exe,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const logs = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => window.edgedeblurDemo && window.edgedeblurDemo.ready, null, { timeout: 60000 });
  const loadError = await page.evaluate(() => window.edgedeblurDemo.error || null);
  if (loadError) throw new Error(`model load failed: ${loadError}\n${logs.join('\n')}`);
  if (psf) await page.setInputFiles('#psf', psf); // a deblur prior's blur kernel (web-demo/deblur.js)
  await page.setInputFiles('#file', photo);
  await page.waitForFunction(() => !document.getElementById('run').disabled, null, { timeout: 30000 });
  await page.click('#run');
  await page.waitForFunction(() => window.edgedeblurDemo.done, null, { timeout: 240000 });
  const r = await page.evaluate(() => {
    const s = window.edgedeblurDemo;
    if (!s.result) return { error: s.error || 'no result' };
    let bin = '';
    for (let i = 0; i < s.result.rgba.length; i++) bin += String.fromCharCode(s.result.rgba[i]);
    return {
      width: s.image.width, height: s.image.height, tiles: s.result.tiles, tileMs: s.result.tileMs,
      totalMs: s.result.totalMs, loadMs: s.loadMs, rgba: btoa(bin),
      status: document.getElementById('status').textContent, model: document.getElementById('model').textContent,
    };
  });
  if (r.error) throw new Error(`restore failed: ${r.error}\n${logs.join('\n')}`);
  writeFileSync(join(outDir, 'rgba.bin'), Buffer.from(r.rgba, 'base64'));
  delete r.rgba;
  r.logs = logs;
  writeFileSync(join(outDir, 'result.json'), JSON.stringify(r, null, 1));
  await page.screenshot({ path: join(outDir, 'screenshot.png'), fullPage: true });
} finally {
  await browser.close();
}
