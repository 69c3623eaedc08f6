import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
const dir = mkdtempSync('/tmp/pwud-');
const ctx = await chromium.launchPersistentContext(dir, { executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox','--disable-gpu'] });
const page = await ctx.newPage();
const [,, out, w, ...ys] = process.argv;
await page.setViewportSize({width:+w,height:900});
await page.goto('file://' + out + '/index.html');
for (const y of ys) {
  await page.screenshot({ path: `/tmp/s-${w}-${y}.png`, clip: {x:0,y:+y,width:+w,height:1400}, fullPage: true });
}
await ctx.close();
