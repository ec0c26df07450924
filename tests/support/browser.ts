import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { describe, expect } from 'vitest';
import { signUp } from './clients.ts';

/** Debian's Chromium; Playwright's own browser download is not used. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const chromiumInstalled = existsSync(CHROMIUM_PATH);
const inCi = process.env.CI === 'true';

/**
 * `describe` for browser tests. Without Chromium they are skipped locally with a note saying how
 * to get it; in CI they run anyway, so launching fails loudly instead of passing silently.
 */
export const describeBrowser = chromiumInstalled || inCi ? describe : describe.skip;
if (!chromiumInstalled && !inCi) {
  console.warn(
    `Skipping browser tests: no Chromium at ${CHROMIUM_PATH}. Install it (Debian: apt-get install chromium) or set CHROMIUM_PATH.`,
  );
}

export async function launchBrowser(): Promise<Browser> {
  if (!chromiumInstalled) {
    throw new Error(`Chromium is required for the browser tests in CI but ${CHROMIUM_PATH} does not exist`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** How long polled assertions (`expect.poll`) wait: generous, for a loaded CI machine. */
export const POLL = { timeout: 15_000, interval: 50 } as const;

/** A TCP port free right now, for a server that must come back on the same port after a restart. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('no port'));
        else resolve(address.port);
      });
    });
  });
}

export interface ConsoleWatch {
  /** Uncaught exceptions and console.error output not matching the allowed patterns. */
  errors: string[];
  /** Adds patterns for errors this test provokes on purpose (e.g. a refused connection). */
  allow(...patterns: RegExp[]): void;
}

/**
 * The browser reports a failed request as a console error of its own. The join page asks auth.me
 * whether a session exists, and "no" is a 401: expected for a signed-out visitor.
 */
const ALWAYS_ALLOWED: Array<(text: string, url: string) => boolean> = [
  (text, url) => text.includes('status of 401') && url.includes('/api/trpc/auth.me'),
];

/** Records page errors and console errors of every page opened in `context`. */
export function watchConsole(context: BrowserContext): ConsoleWatch {
  const allowed: RegExp[] = [];
  const watch: ConsoleWatch = {
    errors: [],
    allow: (...patterns) => {
      allowed.push(...patterns);
    },
  };
  const record = (text: string, url: string) => {
    if (ALWAYS_ALLOWED.some((accept) => accept(text, url))) return;
    if (allowed.some((pattern) => pattern.test(text) || pattern.test(url))) return;
    watch.errors.push(url ? `${text} (${url})` : text);
  };
  const attach = (page: Page) => {
    page.on('pageerror', (error) => record(`uncaught: ${error.message}`, ''));
    page.on('console', (message) => {
      if (message.type() === 'error') record(message.text(), message.location().url);
    });
  };
  for (const page of context.pages()) attach(page);
  context.on('page', attach);
  return watch;
}

/** A browser context already signed in as a fresh user (session cookie set), plus its console watch. */
export async function signedInContext(
  browser: Browser,
  baseUrl: string,
  options: { username?: string; viewport?: { width: number; height: number }; bypassCSP?: boolean } = {},
) {
  const user = await signUp(baseUrl, options.username);
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 800 },
    bypassCSP: options.bypassCSP ?? false,
  });
  await context.addCookies([{ name: 'atlas_session', value: user.token, url: baseUrl }]);
  const consoleWatch = watchConsole(context);
  return { user, context, console: consoleWatch };
}

/** Opens a room and waits until its live subscription is up ("Live" in the status line). */
export async function openRoom(page: Page, baseUrl: string, room: string): Promise<void> {
  await page.goto(`${baseUrl}/rooms/${room}`);
  await expect.poll(() => page.getByRole('status').textContent(), POLL).toBe('Live');
}

/** The texts of the messages shown in the log, in order (pending ones included). */
export async function messageTexts(page: Page): Promise<string[]> {
  return page.getByRole('log').locator('.message__text').allTextContents();
}

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core on the page as it is now and returns every violation. Injected with evaluate
 * rather than a script tag, which the server's Content-Security-Policy (rightly) refuses.
 */
export async function runAxe(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  // A string, not a function: this file is type-checked without the DOM library.
  return page.evaluate<AxeViolation[]>(`axe.run(document).then((results) =>
    results.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      targets: violation.nodes.map((node) => node.target.map(String).join(' ')),
    })))`);
}

export function seriousViolations(violations: readonly AxeViolation[]): AxeViolation[] {
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}

/** Whether the page scrolls sideways (it must not, down to 375 px). */
export async function hasHorizontalScroll(page: Page): Promise<boolean> {
  return page.evaluate<boolean>('document.documentElement.scrollWidth > document.documentElement.clientWidth');
}
