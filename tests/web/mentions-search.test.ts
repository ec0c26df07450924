import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeBrowser, launchBrowser, openRoom, POLL, runAxe, signedInContext } from '../support/browser.ts';
import { signUp, trpcClient, uniqueName } from '../support/clients.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const freshRoom = (prefix: string) => uniqueName(prefix).toLowerCase();

function composer(page: Page): Locator {
  return page.getByRole('textbox', { name: 'Message', exact: true });
}

/** The row of the newest message whose text contains `text`. */
function messageRow(page: Page, text: string): Locator {
  return page.getByRole('log').locator('li.message').filter({ hasText: text }).last();
}

/** Evaluates in the page; a string, since this file is type-checked without the DOM library. */
function pageValue<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate<T>(expression);
}

/**
 * The browser's Notification API replaced before the app loads, recording what would be shown
 * (headless Chromium shows none), and document.visibilityState under the test's control.
 */
const FAKE_NOTIFICATIONS = `
  window.__notes = [];
  window.__asked = 0;
  window.__hidden = false;
  class FakeNotification {
    static permission = 'default';
    static requestPermission() {
      window.__asked += 1;
      FakeNotification.permission = 'granted';
      return Promise.resolve('granted');
    }
    constructor(title, options) { window.__notes.push({ title, body: options && options.body }); }
    close() {}
  }
  window.Notification = FakeNotification;
  Object.defineProperty(document, 'visibilityState', {
    configurable: true,
    get: () => (window.__hidden ? 'hidden' : 'visible'),
  });
`;

describeBrowser('mentions and search', () => {
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

  test('typing @ offers the members (keyboard: arrows, Enter, Tab, Escape); mentions show, mine highlighted', async () => {
    const room = freshRoom('mention');
    const alice = await signedInContext(browser, server.baseUrl, { username: uniqueName('alice') });
    const bob = await signedInContext(browser, server.baseUrl, { username: uniqueName('bob') });
    const carol = await signUp(server.baseUrl, uniqueName('carol'));
    await trpcClient(server.baseUrl, carol.token).rooms.join.mutate({ room });
    const bobPage = await bob.context.newPage();
    await openRoom(bobPage, server.baseUrl, room);
    const page = await alice.context.newPage();
    await openRoom(page, server.baseUrl, room);
    await expect.poll(() => page.getByRole('list', { name: 'Members' }).getByRole('listitem').count(), POLL).toBe(3);

    const box = composer(page);
    const suggestions = page.getByRole('listbox', { name: 'Members to mention' });
    await box.click();
    await page.keyboard.type('hi @bo');
    await expect.poll(() => suggestions.getByRole('option').allTextContents(), POLL).toEqual([`@${bob.user.username}`]);
    const activeId = await box.getAttribute('aria-activedescendant');
    expect(activeId).toBeTruthy();
    expect(await suggestions.getByRole('option', { selected: true }).getAttribute('id')).toBe(activeId);
    await page.keyboard.press('Enter');
    expect(await box.inputValue()).toBe(`hi @${bob.user.username} `);
    expect(await suggestions.count()).toBe(0);

    // `@` alone offers everyone but me, alphabetically; Down moves, Tab picks.
    await page.keyboard.type('and @');
    await expect
      .poll(() => suggestions.getByRole('option').allTextContents(), POLL)
      .toEqual([`@${bob.user.username}`, `@${carol.username}`]);
    expect(await runAxe(page)).toEqual([]);
    await page.keyboard.press('ArrowDown');
    expect(await suggestions.getByRole('option', { selected: true }).textContent()).toBe(`@${carol.username}`);
    await page.keyboard.press('Tab');
    expect(await box.inputValue()).toBe(`hi @${bob.user.username} and @${carol.username} `);
    // Tab picked; the focus stayed in the box.
    expect(await pageValue<string>(page, 'document.activeElement.id')).toBe('composer-text');

    // Escape closes the list and keeps the text; an e-mail address offers nothing.
    await page.keyboard.type('@');
    await expect.poll(() => suggestions.count(), POLL).toBe(1);
    await page.keyboard.press('Escape');
    expect(await suggestions.count()).toBe(0);
    await page.keyboard.type('x mail me at me@b');
    expect(await suggestions.count()).toBe(0);
    await page.keyboard.press('Enter');
    const sent = `hi @${bob.user.username} and @${carol.username} @x mail me at me@b`;
    await expect.poll(() => messageRow(bobPage, 'mail me at').locator('.message__text').textContent(), POLL).toBe(sent);

    // Bob sees his mention highlighted and the message marked; carol's shows as a mention.
    const bobRow = messageRow(bobPage, 'mail me at');
    await expect.poll(() => bobRow.locator('.mention--me').allTextContents(), POLL).toEqual([`@${bob.user.username}`]);
    expect(await bobRow.locator('.mention').allTextContents()).toEqual([`@${bob.user.username}`, `@${carol.username}`]);
    expect(await bobRow.getAttribute('class')).toContain('message--mentions-me');
    // For alice, neither is her: shown as mentions, nothing highlighted.
    const aliceRow = messageRow(page, 'mail me at');
    await expect.poll(() => aliceRow.locator('.mention').count(), POLL).toBe(2);
    expect(await aliceRow.locator('.mention--me').count()).toBe(0);
    expect(await aliceRow.getAttribute('class')).not.toContain('message--mentions-me');
    expect(await runAxe(bobPage)).toEqual([]);

    expect(alice.console.errors).toEqual([]);
    expect(bob.console.errors).toEqual([]);
    await alice.context.close();
    await bob.context.close();
  });

  test('mention notifications are opt-in, asked for on a click, and shown only while the tab is hidden', async () => {
    const room = freshRoom('notify');
    const bob = await signedInContext(browser, server.baseUrl, { username: uniqueName('bob') });
    const alice = await signUp(server.baseUrl, uniqueName('alice'));
    const api = trpcClient(server.baseUrl, alice.token);
    await api.rooms.join.mutate({ room });
    await bob.context.addInitScript(FAKE_NOTIFICATIONS);
    const page = await bob.context.newPage();
    await openRoom(page, server.baseUrl, room);

    const toggle = page.getByRole('button', { name: 'Mention alerts' });
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    // Nothing asked on load, and nothing shown before opting in.
    await page.evaluate('window.__hidden = true');
    await api.messages.post.mutate({ room, text: `early @${bob.user.username}` });
    await expect.poll(() => page.getByRole('log').getByText('early').count(), POLL).toBe(1);
    expect(await pageValue<number>(page, 'window.__asked')).toBe(0);
    expect(await pageValue<unknown[]>(page, 'window.__notes')).toEqual([]);

    await page.evaluate('window.__hidden = false');
    await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-pressed'), POLL).toBe('true');
    expect(await pageValue<number>(page, 'window.__asked')).toBe(1);

    // Visible tab: no notification.
    await api.messages.post.mutate({ room, text: `visible @${bob.user.username}` });
    await expect.poll(() => page.getByRole('log').getByText('visible').count(), POLL).toBe(1);
    // Hidden tab: a mention notifies, a message without one does not.
    await page.evaluate('window.__hidden = true');
    await api.messages.post.mutate({ room, text: 'no mention here' });
    await api.messages.post.mutate({ room, text: `hidden @${bob.user.username} look` });
    await expect.poll(() => page.getByRole('log').getByText('hidden').count(), POLL).toBe(1);
    expect(await pageValue<unknown[]>(page, 'window.__notes')).toEqual([
      { title: `${alice.username} mentioned you in #${room}`, body: `hidden @${bob.user.username} look` },
    ]);

    // Off again: nothing more.
    await page.evaluate('window.__hidden = false');
    await toggle.click();
    await expect.poll(() => toggle.getAttribute('aria-pressed'), POLL).toBe('false');
    await page.evaluate('window.__hidden = true');
    await api.messages.post.mutate({ room, text: `later @${bob.user.username}` });
    await expect.poll(() => page.getByRole('log').getByText('later').count(), POLL).toBe(1);
    expect(await pageValue<unknown[]>(page, 'window.__notes')).toHaveLength(1);
    expect(bob.console.errors).toEqual([]);
    await bob.context.close();
  });

  test('search (Ctrl+K or /) groups results by room; choosing one opens the room around it and highlights it', async () => {
    const far = freshRoom('searchfar');
    const near = freshRoom('searchnear');
    const { user, context, console: consoleWatch } = await signedInContext(browser, server.baseUrl);
    const api = trpcClient(server.baseUrl, user.token);
    const word = `quokka${Math.random()
      .toString(36)
      .replace(/[^a-z]/g, '')
      .slice(0, 8)}`;
    await api.rooms.join.mutate({ room: far });
    await api.rooms.join.mutate({ room: near });
    for (let index = 1; index <= 4; index += 1) await api.messages.post.mutate({ room: far, text: `filler ${index}` });
    const target = await api.messages.post.mutate({ room: far, text: `the ${word} report <b>is</b> in & done` });
    // Far more than one page after it: the room must open around the result, not at the newest.
    for (let index = 6; index <= 130; index += 1)
      await api.messages.post.mutate({ room: far, text: `filler ${index}` });
    await api.messages.post.mutate({ room: near, text: `a ${word} here too` });

    const page = await context.newPage();
    await openRoom(page, server.baseUrl, near);
    await page.keyboard.press('Control+K');
    const dialog = page.getByRole('dialog', { name: 'Search messages' });
    const input = dialog.getByRole('searchbox', { name: 'Search messages' });
    await expect.poll(() => pageValue<string>(page, 'document.activeElement.type'), POLL).toBe('search');
    await page.keyboard.type(word);
    await expect
      .poll(() => dialog.getByRole('heading', { level: 3 }).allTextContents(), POLL)
      .toEqual([`#${near}`, `#${far}`]);
    const results = dialog.getByRole('link');
    expect(await results.count()).toBe(2);
    // The snippet: the match in <mark>, the rest as text (its "<b>" shown, not rendered).
    const farResult = dialog.getByRole('region', { name: `#${far}` }).getByRole('link');
    expect(await farResult.locator('mark').allTextContents()).toEqual([word]);
    expect(await farResult.locator('.search-result__snippet').textContent()).toBe(
      `the ${word} report <b>is</b> in & done`,
    );
    expect(await dialog.locator('b').count()).toBe(0);
    expect(await runAxe(page)).toEqual([]);

    // Keyboard: Down into the results, Down again, Enter opens it.
    expect(await input.inputValue()).toBe(word);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.url(), POLL).toBe(`${server.baseUrl}/rooms/${far}?at=${target.message.seq}`);
    expect(await dialog.count()).toBe(0);
    const row = page.getByRole('log').locator(`li[data-seq="${target.message.seq}"]`);
    await expect.poll(() => row.getAttribute('class'), POLL).toContain('message--highlighted');
    expect(await pageValue<string | undefined>(page, 'document.activeElement.dataset.seq')).toBe(
      String(target.message.seq),
    );
    // Opened around it: the newest messages are not loaded.
    expect(await page.getByRole('log').locator('li[data-seq="131"]').count()).toBe(0);
    expect(await row.isVisible()).toBe(true);

    // "/" outside a text field opens search too; Escape closes it and gives the focus back.
    await page.getByRole('log').focus();
    await page.keyboard.press('/');
    await expect.poll(() => dialog.count(), POLL).toBe(1);
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog.count(), POLL).toBe(0);
    expect(await pageValue<string>(page, 'document.activeElement.getAttribute("role")')).toBe('log');
    expect(consoleWatch.errors).toEqual([]);
    await context.close();
  });
});
