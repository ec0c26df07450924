import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  describeBrowser,
  hasHorizontalScroll,
  launchBrowser,
  openRoom,
  POLL,
  runAxe,
  seriousViolations,
  signedInContext,
  watchConsole,
} from '../support/browser.ts';
import { rest, signUp, trpcClient, uniqueName } from '../support/clients.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describeBrowser('join page', () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMITS: 'off' });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  test('a new visitor creates an account with the keyboard alone and lands in the room', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const consoleWatch = watchConsole(context);
    const page = await context.newPage();
    await page.goto(server.baseUrl);
    const username = uniqueName('kb');

    await page.getByRole('radio', { name: 'Sign in' }).waitFor();
    expect(await page.getByRole('radio', { name: 'Sign in', exact: true }).isChecked()).toBe(true);
    await page.keyboard.press('Tab');
    await page.keyboard.press('ArrowRight');
    expect(await page.getByRole('radio', { name: 'Create account', exact: true }).isChecked()).toBe(true);
    await page.keyboard.press('Tab');
    await page.keyboard.type(username);
    await page.keyboard.press('Tab');
    await page.keyboard.type('a long enough password');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Keyboard-Room');
    await page.keyboard.press('Enter');

    // Room names are lower-cased, as the server stores them.
    await page.waitForURL(`${server.baseUrl}/rooms/keyboard-room`);
    await expect.poll(() => page.getByRole('status').textContent(), POLL).toBe('Live');
    await page.getByRole('textbox', { name: 'Message', exact: true }).waitFor();
    const members = await page.getByRole('list', { name: 'Members' }).textContent();
    expect(members).toContain(username);
    expect(consoleWatch.errors).toEqual([]);
    await context.close();
  });

  test('server errors appear next to their field and what was typed stays', async () => {
    const existing = await signUp(server.baseUrl);
    const context = await browser.newContext();
    const consoleWatch = watchConsole(context);
    // Wrong passwords and taken names are refused by the server with 401 and 409: expected here.
    consoleWatch.allow(/status of 40[19]/);
    const page = await context.newPage();
    await page.goto(server.baseUrl);

    const username = page.getByRole('textbox', { name: 'Username', exact: true });
    const password = page.getByLabel('Password', { exact: true });
    const room = page.getByRole('textbox', { name: 'Room', exact: true });
    const join = page.getByRole('button', { name: 'Join room', exact: true });

    // Taken username, on sign-up.
    await page.getByRole('radio', { name: 'Create account', exact: true }).check();
    await username.fill(existing.username.toUpperCase());
    await password.fill('another password');
    await room.fill('lobby');
    await join.click();
    await expect.poll(() => fieldError(page, 'join-username'), POLL).toMatch(/is taken/);
    expect(await username.getAttribute('aria-invalid')).toBe('true');
    expect(await username.inputValue()).toBe(existing.username.toUpperCase());
    expect(await password.inputValue()).toBe('another password');
    expect(await room.inputValue()).toBe('lobby');
    expect(await page.evaluate('document.activeElement.id')).toBe('join-username');

    // Wrong password, on sign-in.
    await page.getByRole('radio', { name: 'Sign in', exact: true }).check();
    await username.fill(existing.username);
    await join.click();
    await expect.poll(() => fieldError(page, 'join-password'), POLL).toBe('Wrong username or password.');
    expect(await fieldError(page, 'join-username')).toBeNull();
    expect(await password.inputValue()).toBe('another password');
    expect(await room.inputValue()).toBe('lobby');

    // A room name outside the rule: the rule is explained next to the Room field.
    await password.fill(existing.password);
    await room.fill('Not a room!');
    await join.click();
    await expect.poll(() => fieldError(page, 'join-room'), POLL).toContain('a–z');
    expect(await room.inputValue()).toBe('Not a room!');
    expect(page.url()).toBe(`${server.baseUrl}/`);

    // Fixing it is enough: everything else was kept.
    await room.fill('lobby');
    await join.click();
    await page.waitForURL(`${server.baseUrl}/rooms/lobby`);
    expect(consoleWatch.errors).toEqual([]);
    await context.close();
  });

  test('signed in: only the Room field, who is signed in, Sign out, and the rooms with their counts', async () => {
    const owner = await signUp(server.baseUrl);
    const api = trpcClient(server.baseUrl, owner.token);
    const busy = uniqueName('busy').toLowerCase();
    await api.rooms.join.mutate({ room: busy });
    for (const text of ['one', 'two', 'three']) await api.messages.post.mutate({ room: busy, text });

    const { user, context, console: consoleWatch } = await signedInContext(browser, server.baseUrl);
    const page = await context.newPage();
    await page.goto(server.baseUrl);
    await page.getByText(`Signed in as ${user.username}`).waitFor();
    expect(await page.getByRole('textbox', { name: 'Username' }).count()).toBe(0);
    expect(await page.getByLabel('Password').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Sign out', exact: true }).isVisible()).toBe(true);
    expect(await page.getByRole('textbox', { name: 'Room', exact: true }).isVisible()).toBe(true);

    const link = page.getByRole('link', { name: `#${busy}` });
    await expect.poll(() => link.textContent(), POLL).toBe(`#${busy}3 messages · 1 member`);

    const violations = await runAxe(page);
    expect(seriousViolations(violations)).toEqual([]);

    await link.click();
    await page.waitForURL(`${server.baseUrl}/rooms/${busy}`);
    await expect.poll(() => page.getByRole('status').textContent(), POLL).toBe('Live');
    await expect
      .poll(() => page.getByRole('log').locator('.message__text').allTextContents(), POLL)
      .toEqual(['one', 'two', 'three']);

    // Sign out is one click away, and leaves the room filled in for next time.
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(`${server.baseUrl}/?room=${busy}`);
    await page.getByRole('textbox', { name: 'Username', exact: true }).waitFor();
    expect(await page.getByRole('textbox', { name: 'Room', exact: true }).inputValue()).toBe(busy);
    expect(consoleWatch.errors).toEqual([]);
    await context.close();
  });

  test('a session that ends elsewhere sends the user to the join page with the room filled in', async () => {
    const { user, context, console: consoleWatch } = await signedInContext(browser, server.baseUrl);
    consoleWatch.allow(/status of 401/);
    const page = await context.newPage();
    const room = uniqueName('gone').toLowerCase();
    await openRoom(page, server.baseUrl, room);

    // The live socket hears of it: the page leaves by itself, with nothing typed or sent.
    const signedOut = await rest(server.baseUrl, 'POST', '/auth/sign-out', { token: user.token, body: {} });
    expect(signedOut.status).toBe(200);
    await page.waitForURL(`${server.baseUrl}/?room=${room}`);
    expect(await page.getByRole('textbox', { name: 'Room', exact: true }).inputValue()).toBe(room);
    expect(await page.getByRole('radio', { name: 'Sign in', exact: true }).isChecked()).toBe(true);
    expect(consoleWatch.errors).toEqual([]);
    await context.close();
  });

  test('passes axe and fits a 375 px wide screen without sideways scrolling', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 740 } });
    const consoleWatch = watchConsole(context);
    const page = await context.newPage();
    await page.goto(server.baseUrl);
    await page.getByRole('button', { name: 'Join room', exact: true }).waitFor();
    expect(seriousViolations(await runAxe(page))).toEqual([]);
    expect(await hasHorizontalScroll(page)).toBe(false);

    // With every error shown at once.
    await page.getByRole('radio', { name: 'Create account', exact: true }).check();
    await page.getByRole('button', { name: 'Join room', exact: true }).click();
    await page.locator('.field__error').first().waitFor();
    expect(await page.locator('.field__error').count()).toBe(3);
    expect(seriousViolations(await runAxe(page))).toEqual([]);
    expect(await hasHorizontalScroll(page)).toBe(false);
    expect(consoleWatch.errors).toEqual([]);
    await context.close();
  });
});

/** The error text shown under a field, or null. */
async function fieldError(page: import('playwright-core').Page, inputId: string): Promise<string | null> {
  const error = page.locator(`#${inputId}-error`);
  return (await error.count()) > 0 ? error.textContent() : null;
}
