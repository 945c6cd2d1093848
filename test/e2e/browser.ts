/**
 * Shared pieces of the browser tests: a fresh client build in a temp folder (so the tests run
 * what the source says, whatever dist/ holds) and headless Debian Chromium via playwright-core.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { tempDir } from '../helpers/gateway.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Build the client and test page into a new temp folder; returns the folder. */
export function buildClientAssets(): string {
  const outdir = tempDir('portico-ws-client-');
  process.once('exit', () => fs.rmSync(outdir, { recursive: true, force: true }));
  const result = spawnSync(process.execPath, [path.join(root, 'scripts/build-client.mjs'), '--outdir', outdir, '--no-types'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`client build failed: ${result.stderr}`);
  return outdir;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Collect page errors and console errors, so a test can assert the page stayed clean. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    // Chromium asks every origin for /favicon.ico, which the gateway does not serve.
    if (msg.type() === 'error' && !msg.location().url.endsWith('/favicon.ico')) errors.push(`console: ${msg.text()}`);
  });
  return errors;
}

export const WAIT = { timeout: 15_000 };

/** A page in a fresh context that sends `session` as PorticoEstate's session cookie to `url`, with its errors collected. */
export async function sessionPage(browser: Browser, url: string, session: string): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext();
  await context.addCookies([{ name: 'bookingfrontendsession', value: session, url }]);
  const page = await context.newPage();
  return { page, errors: watchErrors(page) };
}

/**
 * Open `html` as a page of the gateway's origin. It is written into a document the gateway served
 * (its /health), because Chromium's local-network-access checks block WebSockets to 127.0.0.1
 * from documents that did not come from a local address.
 */
export async function openGatewayPage(page: Page, httpUrl: string, html: string): Promise<void> {
  await page.goto(`${httpUrl}/health`);
  await page.setContent(html);
}
