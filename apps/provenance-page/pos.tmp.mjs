import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
const ctx = await chromium.launchPersistentContext(mkdtempSync('/tmp/pwud-'), { executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox','--disable-gpu'] });
const page = await ctx.newPage();
await page.setViewportSize({width:+process.argv[3],height:900});
await page.goto('file://' + process.argv[2] + '/index.html');
console.log(await page.evaluate(() => ['slsa','reproducibility','images','verification','source'].map(id => id + ':' + Math.round(document.getElementById(id).getBoundingClientRect().top + scrollY)).join(' ') + ' total:' + document.body.scrollHeight));
await ctx.close();
