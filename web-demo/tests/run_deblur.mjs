// Drive web-demo/tests/deblur.html in headless Chromium and write its result (window.deblurTest)
// as JSON. Used by tests/test_web_deblur.py.
// usage: node tests/run_deblur.mjs <page url> <out json> [chromium path]
import { chromium } from 'playwright-core';
import { writeFileSync } from 'node:fs';

const [url, out, exe = '/usr/bin/chromium'] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: exe,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => window.deblurTest && window.deblurTest.done, null, { timeout: 240000 });
  const r = await page.evaluate(() => window.deblurTest);
  r.logs = logs;
  r.userAgent = await page.evaluate(() => navigator.userAgent);
  writeFileSync(out, JSON.stringify(r));
  if (r.error) throw new Error(`page failed: ${r.error}\n${logs.join('\n')}`);
} finally {
  await browser.close();
}
