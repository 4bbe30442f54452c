// Debian's chromium driven by puppeteer-core (no browser download: the Debian package is the browser), for the
// dashboard's browser tests. Screenshots go to DASHBOARD_SCREENSHOTS when set (docs/dashboard/ holds the committed
// ones: `DASHBOARD_SCREENSHOTS=docs/dashboard node --test --import tsx test/dashboard/...`), else to a temp dir.

import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM = '/usr/bin/chromium';
export const chromiumInstalled = () => existsSync(CHROMIUM);

export async function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // --no-sandbox: chromium refuses to run its sandbox as root (the CI user); the pages are our own.
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
}

export const LAPTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

let shotDir: string | null = null;
export function screenshotDir(): string {
  if (!shotDir) {
    shotDir = process.env.DASHBOARD_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'dash-shots-'));
    mkdirSync(shotDir, { recursive: true });
  }
  return shotDir;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const file = join(screenshotDir(), `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Evaluates a JavaScript expression in the page (a string: the tests are not compiled with the DOM types). */
export const js = (page: Page, expr: string): Promise<unknown> => page.evaluate(expr);
/** Waits until a JavaScript expression is true in the page. */
export const waitJs = async (page: Page, expr: string, timeout = 30_000): Promise<void> => {
  await page.waitForFunction(expr, { timeout });
};

/** Page text of a selector (trimmed), or null when it is not there. */
export async function textOf(page: Page, selector: string): Promise<string | null> {
  return page.$eval(selector, (e) => (e.textContent ?? '').replace(/\s+/g, ' ').trim()).catch(() => null);
}

/**
 * Problems a person would meet: a form control without an accessible name, text (badges, buttons, links, cells)
 * under WCAG AA contrast (4.5:1) on its background. Plain JavaScript in a string: the test runner's transpiler
 * would add helpers to a function that the page does not have.
 */
const A11Y_SCRIPT = `(() => {
  const problems = [];
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    const labelled = (el.id && document.querySelector('label[for="' + el.id + '"]')) || el.closest('label') || el.getAttribute('aria-label');
    if (!labelled) problems.push('unlabelled ' + el.tagName.toLowerCase() + ' name=' + el.getAttribute('name'));
  }
  const lum = (rgb) => {
    const [r, g, b] = rgb.map((v) => { const c = v / 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const parse = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  for (const el of document.querySelectorAll('.badge, button, a, th, td, p, label, h1, h2')) {
    if (!el.getClientRects().length || !(el.textContent || '').trim()) continue;
    const fg = parse(getComputedStyle(el).color).slice(0, 3);
    const [l1, l2] = [lum(fg), lum(background(el))].sort((a, b) => b - a);
    const ratio = (l1 + 0.05) / (l2 + 0.05);
    if (ratio < 4.5) problems.push('contrast ' + ratio.toFixed(2) + ' on ' + el.tagName.toLowerCase() + '.' + el.className + ': ' + (el.textContent || '').trim().slice(0, 30));
  }
  return problems;
})()`;

export async function accessibilityProblems(page: Page): Promise<string[]> {
  return (await page.evaluate(A11Y_SCRIPT)) as string[];
}
