import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  describeBrowser,
  hasHorizontalScroll,
  launchBrowser,
  messageTexts,
  openRoom,
  POLL,
  runAxe,
  seriousViolations,
  signedInContext,
  watchConsole,
} from '../support/browser.ts';
import { signUp, trpcClient, uniqueName } from '../support/clients.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const freshRoom = (prefix: string) => uniqueName(prefix).toLowerCase();

/** The row of the message whose text is exactly `text`. */
function messageRow(page: Page, text: string): Locator {
  return page
    .getByRole('log')
    .locator('li.message')
    .filter({ has: page.locator('.message__text').getByText(text, { exact: true }) });
}

function composer(page: Page): Locator {
  return page.getByRole('textbox', { name: 'Message', exact: true });
}

/** Hovers the message (its actions show on hover) and presses one of its actions. */
async function act(row: Locator, action: 'React' | 'Reply' | 'Edit' | 'Delete'): Promise<void> {
  await row.hover();
  await row
    .getByRole('toolbar', { name: 'Message actions' })
    .getByRole('button', { name: action, exact: true })
    .click();
}

/** Accessible names and pressed states of a message's reaction buttons, e.g. [['👍 2', 'true']]. */
function reactionsOf(row: Locator): Promise<string[][]> {
  return row
    .getByRole('list', { name: 'Reactions' })
    .getByRole('button')
    .evaluateAll((buttons: Array<{ textContent: string | null; getAttribute(name: string): string | null }>) =>
      buttons.map((button) => [button.textContent ?? '', button.getAttribute('aria-pressed') ?? '']),
    );
}

/** Whether the element is entirely inside the log's visible area. */
async function inLogViewport(page: Page, row: Locator): Promise<boolean> {
  const log = await page.getByRole('log').boundingBox();
  const box = await row.boundingBox();
  if (!log || !box) return false;
  return box.y >= log.y - 1 && box.y + box.height <= log.y + log.height + 1;
}

describeBrowser('message actions', () => {
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

  test('edit by the menu and by Up arrow; Escape cancels and the draft comes back; others see the edit', async () => {
    const room = freshRoom('edit');
    const alice = await signedInContext(browser, server.baseUrl, { username: uniqueName('alice') });
    const bob = await signedInContext(browser, server.baseUrl, { username: uniqueName('bob') });
    const alicePage = await alice.context.newPage();
    const bobPage = await bob.context.newPage();
    await openRoom(alicePage, server.baseUrl, room);
    await openRoom(bobPage, server.baseUrl, room);
    const box = composer(alicePage);

    await box.fill('helo wrold');
    await box.press('Enter');
    await box.fill('second mesage');
    await box.press('Enter');
    await expect.poll(() => messageTexts(bobPage), POLL).toEqual(['helo wrold', 'second mesage']);
    await expect.poll(() => alicePage.locator('.message--pending').count(), POLL).toBe(0);

    // Someone else's message offers React and Reply only.
    const onBob = messageRow(bobPage, 'helo wrold');
    await onBob.hover();
    const bobActions = onBob.getByRole('toolbar', { name: 'Message actions' }).getByRole('button');
    expect(await bobActions.allTextContents()).toEqual(['React', 'Reply']);

    // 1. By the menu, with a draft in the composer that comes back afterwards.
    await box.fill('a draft');
    await act(messageRow(alicePage, 'helo wrold'), 'Edit');
    await expect.poll(() => box.inputValue(), POLL).toBe('helo wrold');
    await alicePage.getByText('Editing your message').waitFor();
    await box.fill('hello world');
    await box.press('Enter');
    await expect.poll(() => messageTexts(alicePage), POLL).toEqual(['hello world', 'second mesage']);
    await expect.poll(() => box.inputValue(), POLL).toBe('a draft');
    for (const page of [alicePage, bobPage]) {
      const edited = messageRow(page, 'hello world').locator('.message__edited');
      await expect.poll(() => edited.textContent(), POLL).toBe('(edited)');
      expect(await edited.getAttribute('title')).toMatch(/^Edited .*\d{4}/);
    }
    expect(await messageRow(alicePage, 'second mesage').locator('.message__edited').count()).toBe(0);

    // 2. Up arrow in the empty composer edits the last message; Escape cancels.
    await box.fill('');
    await box.press('ArrowUp');
    await expect.poll(() => box.inputValue(), POLL).toBe('second mesage');
    expect(await alicePage.getByRole('button', { name: 'Save', exact: true }).isEnabled()).toBe(true);
    await box.press('Escape');
    await expect.poll(() => box.inputValue(), POLL).toBe('');
    expect(await alicePage.getByText('Editing your message').count()).toBe(0);
    expect(await alicePage.getByRole('button', { name: 'Send', exact: true }).count()).toBe(1);

    await box.press('ArrowUp');
    await expect.poll(() => box.inputValue(), POLL).toBe('second mesage');
    await box.fill('second message');
    await box.press('Enter');
    await expect.poll(() => messageTexts(bobPage), POLL).toEqual(['hello world', 'second message']);
    await expect.poll(() => messageTexts(alicePage), POLL).toEqual(['hello world', 'second message']);
    await expect.poll(() => box.inputValue(), POLL).toBe('');

    // Bob has nothing of his own to edit: Up arrow leaves his composer alone.
    await composer(bobPage).press('ArrowUp');
    expect(await composer(bobPage).inputValue()).toBe('');
    expect(await bobPage.getByText('Editing your message').count()).toBe(0);

    const stored = await trpcClient(server.baseUrl, alice.user.token).messages.list.query({ room });
    expect(stored.messages.map((message) => message.text)).toEqual(['hello world', 'second message']);
    expect(stored.messages.every((message) => message.editedAt !== null)).toBe(true);

    expect(alice.console.errors).toEqual([]);
    expect(bob.console.errors).toEqual([]);
    await alice.context.close();
    await bob.context.close();
  });

  test('delete asks for confirmation, works from the keyboard, and leaves a tombstone for everyone', async () => {
    const room = freshRoom('delete');
    const alice = await signedInContext(browser, server.baseUrl, { username: uniqueName('alice') });
    const bob = await signedInContext(browser, server.baseUrl, { username: uniqueName('bob') });
    const alicePage = await alice.context.newPage();
    const bobPage = await bob.context.newPage();
    await openRoom(alicePage, server.baseUrl, room);
    await openRoom(bobPage, server.baseUrl, room);
    const box = composer(alicePage);
    await box.fill('keep me');
    await box.press('Enter');
    await box.fill('regret this');
    await box.press('Enter');
    await expect.poll(() => messageTexts(bobPage), POLL).toEqual(['keep me', 'regret this']);
    await expect.poll(() => alicePage.locator('.message--pending').count(), POLL).toBe(0);

    // Keyboard only: Shift+Tab from the composer reaches the last message, Tab goes on into its
    // actions (which appear with the focus), the arrow keys move along them.
    await box.focus();
    await alicePage.mouse.move(0, 0);
    await alicePage.keyboard.press('Shift+Tab');
    const focusedName = () => alicePage.evaluate<string | null>('document.activeElement?.textContent ?? null');
    expect(await focusedName()).toContain('regret this');
    await alicePage.keyboard.press('Tab');
    expect(await focusedName()).toBe('React');
    await alicePage.keyboard.press('ArrowLeft');
    expect(await focusedName()).toBe('Delete');
    await alicePage.keyboard.press('ArrowLeft');
    expect(await focusedName()).toBe('Edit');
    await alicePage.keyboard.press('ArrowRight');
    expect(await focusedName()).toBe('Delete');
    await alicePage.keyboard.press('Enter');

    const dialog = alicePage.getByRole('dialog', { name: 'Delete this message?' });
    await dialog.waitFor();
    // Cancel has the focus: Enter alone must not delete.
    expect(await focusedName()).toBe('Cancel');
    await alicePage.keyboard.press('Escape');
    await expect.poll(() => dialog.count(), POLL).toBe(0);
    expect(await focusedName()).toBe('Delete');
    expect(await messageTexts(alicePage)).toEqual(['keep me', 'regret this']);

    await act(messageRow(alicePage, 'regret this'), 'Delete');
    await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
    await expect.poll(() => dialog.count(), POLL).toBe(0);
    expect(await messageTexts(alicePage)).toEqual(['keep me', 'regret this']);

    await act(messageRow(alicePage, 'regret this'), 'Delete');
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(() => dialog.count(), POLL).toBe(0);
    for (const page of [alicePage, bobPage]) {
      await expect.poll(() => messageTexts(page), POLL).toEqual(['keep me', 'This message was deleted']);
      const tombstone = messageRow(page, 'This message was deleted');
      // Author and time stay; nothing can be done with it any more.
      expect(await tombstone.locator('.message__author').textContent()).toBe(alice.user.username);
      expect(await tombstone.locator('time').count()).toBe(1);
      expect(await tombstone.getByRole('toolbar').count()).toBe(0);
    }
    // The counts no longer include it.
    await expect
      .poll(() => bobPage.getByRole('region', { name: 'Room statistics' }).locator('.stat-total').textContent(), POLL)
      .toBe('1 message in this room');

    // Up arrow skips the deleted message and edits the one before.
    await box.press('ArrowUp');
    await expect.poll(() => box.inputValue(), POLL).toBe('keep me');
    await box.press('Escape');

    const stored = await trpcClient(server.baseUrl, bob.user.token).messages.list.query({ room });
    expect(stored.messages.map((message) => [message.text, message.deletedAt !== null])).toEqual([
      ['keep me', false],
      ['', true],
    ]);
    expect(alice.console.errors).toEqual([]);
    expect(bob.console.errors).toEqual([]);
    await alice.context.close();
    await bob.context.close();
  });

  test('react and unreact from two browsers: each sees the count and its own pressed state', async () => {
    const room = freshRoom('react');
    const alice = await signedInContext(browser, server.baseUrl, { username: uniqueName('alice') });
    const bob = await signedInContext(browser, server.baseUrl, { username: uniqueName('bob') });
    const bobApi = trpcClient(server.baseUrl, bob.user.token);
    await bobApi.rooms.join.mutate({ room });
    await bobApi.messages.post.mutate({ room, text: 'react to me' });
    const alicePage = await alice.context.newPage();
    const bobPage = await bob.context.newPage();
    await openRoom(alicePage, server.baseUrl, room);
    await openRoom(bobPage, server.baseUrl, room);
    const onAlice = messageRow(alicePage, 'react to me');
    const onBob = messageRow(bobPage, 'react to me');
    await onAlice.waitFor();
    await onBob.waitFor();

    // Alice picks 👍 from the picker, found by name.
    await act(onAlice, 'React');
    const picker = alicePage.getByRole('dialog', { name: 'Add a reaction' });
    await picker.waitFor();
    const search = picker.getByRole('searchbox', { name: 'Search emoji' });
    expect(await alicePage.evaluate<string | null>('document.activeElement?.getAttribute("type") ?? null')).toBe(
      'search',
    );
    await search.fill('thumbs');
    await expect.poll(() => picker.getByRole('button').count(), POLL).toBe(2);
    await picker.getByRole('button', { name: 'thumbs up', exact: true }).click();
    await expect.poll(() => picker.count(), POLL).toBe(0);
    await expect.poll(() => reactionsOf(onAlice), POLL).toEqual([['👍 1', 'true']]);
    await expect.poll(() => reactionsOf(onBob), POLL).toEqual([['👍 1', 'false']]);

    // Bob adds his by clicking the reaction; both see 2, each with their own pressed state.
    await onBob.getByRole('button', { name: '👍 1' }).click();
    await expect.poll(() => reactionsOf(onBob), POLL).toEqual([['👍 2', 'true']]);
    await expect.poll(() => reactionsOf(onAlice), POLL).toEqual([['👍 2', 'true']]);
    expect(await onAlice.getByRole('button', { name: '👍 2' }).getAttribute('title')).toBe(
      `${alice.user.username}, ${bob.user.username}`,
    );

    // Bob adds an emoji that is not in the common list by pasting it into the search (Enter picks it).
    await act(onBob, 'React');
    await bobPage.getByRole('dialog', { name: 'Add a reaction' }).getByRole('searchbox').fill('🦄');
    await bobPage.keyboard.press('Enter');
    await expect
      .poll(() => reactionsOf(onAlice), POLL)
      .toEqual([
        ['👍 2', 'true'],
        ['🦄 1', 'false'],
      ]);

    // Alice takes hers back.
    await onAlice.getByRole('button', { name: '👍 2' }).click();
    await expect
      .poll(() => reactionsOf(onAlice), POLL)
      .toEqual([
        ['👍 1', 'false'],
        ['🦄 1', 'false'],
      ]);
    await expect
      .poll(() => reactionsOf(onBob), POLL)
      .toEqual([
        ['👍 1', 'true'],
        ['🦄 1', 'true'],
      ]);

    // Bob takes both back: the bar is gone for both.
    await onBob.getByRole('button', { name: '👍 1' }).click();
    await onBob.getByRole('button', { name: '🦄 1' }).click();
    await expect.poll(() => reactionsOf(onAlice), POLL).toEqual([]);
    await expect.poll(() => reactionsOf(onBob), POLL).toEqual([]);
    const stored = await bobApi.messages.list.query({ room });
    expect(stored.messages[0]?.reactions).toEqual([]);

    // Escape closes the picker without reacting; axe is clean with it open and with a reaction shown.
    await onAlice.getByRole('button', { name: 'React', exact: true }).focus();
    await alicePage.keyboard.press('Enter');
    await picker.waitFor();
    expect(seriousViolations(await runAxe(alicePage))).toEqual([]);
    await alicePage.keyboard.press('Escape');
    await expect.poll(() => picker.count(), POLL).toBe(0);
    await act(onAlice, 'React');
    await picker.getByRole('button', { name: 'party popper', exact: true }).click();
    await expect.poll(() => reactionsOf(onBob), POLL).toEqual([['🎉 1', 'false']]);
    expect(seriousViolations(await runAxe(bobPage))).toEqual([]);

    expect(alice.console.errors).toEqual([]);
    expect(bob.console.errors).toEqual([]);
    await alice.context.close();
    await bob.context.close();
  });

  test('a refused change is rolled back and says why', async () => {
    const room = freshRoom('rollback');
    const { context, console: consoleWatch } = await signedInContext(browser, server.baseUrl);
    // Aborted requests are reported by the browser itself.
    consoleWatch.allow(/ERR_FAILED/);
    const page = await context.newPage();
    await openRoom(page, server.baseUrl, room);
    await composer(page).fill('stays as it was');
    await composer(page).press('Enter');
    await expect.poll(() => page.locator('.message--pending').count(), POLL).toBe(0);
    const row = messageRow(page, 'stays as it was');

    // The edit shows at once, then goes back when the request fails.
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await page.route('**/api/trpc/*messages.edit*', async (route) => {
      await held;
      await route.abort();
    });
    await act(row, 'Edit');
    await composer(page).fill('never saved');
    await composer(page).press('Enter');
    await expect.poll(() => messageTexts(page), POLL).toEqual(['never saved']);
    release();
    await expect.poll(() => messageTexts(page), POLL).toEqual(['stays as it was']);
    const alert = row.getByRole('alert');
    await expect.poll(() => alert.textContent(), POLL).toMatch(/^Could not edit the message: /);
    expect(await row.locator('.message__edited').count()).toBe(0);
    await alert.getByRole('button', { name: 'Dismiss', exact: true }).click();
    await expect.poll(() => alert.count(), POLL).toBe(0);

    await page.route('**/api/trpc/*messages.react*', (route) => route.abort());
    await act(row, 'React');
    await page.getByRole('dialog', { name: 'Add a reaction' }).getByRole('button', { name: 'red heart' }).click();
    await expect.poll(() => alert.textContent(), POLL).toMatch(/^Could not add your ❤️ reaction: /);
    expect(await reactionsOf(row)).toEqual([]);
    expect(consoleWatch.errors).toEqual([]);
    await context.close();
  });

  test('reply quotes the original; the quote jumps to it, loading older history first', async () => {
    const room = freshRoom('reply');
    const writer = await signUp(server.baseUrl, uniqueName('writer'));
    const api = trpcClient(server.baseUrl, writer.token);
    await api.rooms.join.mutate({ room });
    const { message: original } = await api.messages.post.mutate({ room, text: 'the original, long ago' });
    for (let index = 1; index <= 130; index += 1) await api.messages.post.mutate({ room, text: `filler ${index}` });
    await api.messages.post.mutate({ room, text: 'answering the first', replyTo: original.seq });

    const alice = await signedInContext(browser, server.baseUrl, { username: uniqueName('alice') });
    const page = await alice.context.newPage();
    await openRoom(page, server.baseUrl, room);
    const items = page.getByRole('log').locator('li.message');
    await expect.poll(() => items.count(), POLL).toBe(50);

    // Replying from the page: the composer says to whom, and Cancel reply takes it back.
    const box = composer(page);
    await act(messageRow(page, 'filler 130'), 'Reply');
    const replying = page.getByText(`Replying to ${writer.username}`);
    await replying.waitFor();
    await page.getByRole('button', { name: 'Cancel reply', exact: true }).click();
    await expect.poll(() => replying.count(), POLL).toBe(0);
    await act(messageRow(page, 'filler 130'), 'Reply');
    await replying.waitFor();
    await box.fill('my answer');
    await box.press('Enter');
    await expect.poll(() => replying.count(), POLL).toBe(0);
    await expect.poll(() => page.locator('.message--pending').count(), POLL).toBe(0);
    const mine = messageRow(page, 'my answer');
    // The quote is a button named after what it quotes.
    const myQuote = mine.getByRole('button', { name: /^In reply to / });
    await expect.poll(() => myQuote.count(), POLL).toBe(1);
    expect(
      await mine.getByRole('button', { name: `In reply to ${writer.username}: filler 130`, exact: true }).count(),
    ).toBe(1);
    const stored = await api.messages.list.query({ room, limit: 1 });
    expect(stored.messages[0]?.replyTo).toMatchObject({ author: writer.username, text: 'filler 130', deleted: false });

    // The quote of a message 130 back: not loaded yet.
    expect(await messageRow(page, 'the original, long ago').count()).toBe(0);
    const quote = messageRow(page, 'answering the first').getByRole('button', {
      name: `In reply to ${writer.username}: the original, long ago`,
      exact: true,
    });
    await quote.click();
    const target = messageRow(page, 'the original, long ago');
    await expect.poll(() => target.getAttribute('class'), POLL).toContain('message--highlighted');
    expect(await inLogViewport(page, target)).toBe(true);
    expect(
      await target.evaluate(
        (element: { ownerDocument: { activeElement: unknown } }) => element === element.ownerDocument.activeElement,
      ),
    ).toBe(true);
    // Everything between came in, in order, once.
    const texts = await messageTexts(page);
    expect(texts.slice(0, 2)).toEqual(['the original, long ago', 'filler 1']);
    expect(new Set(texts).size).toBe(texts.length);
    // The highlight is brief.
    await expect.poll(() => target.getAttribute('class'), POLL).not.toContain('message--highlighted');

    // When the original is deleted, its quotes say so.
    await api.messages.delete.mutate({ room, seq: original.seq });
    const deletedQuote = messageRow(page, 'answering the first').getByRole('button', {
      name: `In reply to ${writer.username}: This message was deleted`,
      exact: true,
    });
    await expect.poll(() => deletedQuote.count(), POLL).toBe(1);

    expect(seriousViolations(await runAxe(page))).toEqual([]);
    expect(alice.console.errors).toEqual([]);
    await alice.context.close();
  });
  test('on a phone, a long press shows the actions; they fit 375 px and pass axe', async () => {
    const room = freshRoom('touch');
    const writer = await signUp(server.baseUrl, uniqueName('writer'));
    const api = trpcClient(server.baseUrl, writer.token);
    await api.rooms.join.mutate({ room });
    await api.messages.post.mutate({ room, text: 'press and hold me' });
    const user = await signUp(server.baseUrl);
    const context = await browser.newContext({ viewport: { width: 375, height: 740 }, hasTouch: true, isMobile: true });
    await context.addCookies([{ name: 'atlas_session', value: user.token, url: server.baseUrl }]);
    const consoleWatch = watchConsole(context);
    const page = await context.newPage();
    await openRoom(page, server.baseUrl, room);
    const row = messageRow(page, 'press and hold me');
    const toolbar = row.getByRole('toolbar', { name: 'Message actions' });
    expect(await toolbar.count()).toBe(0);

    // A short tap does nothing; holding does.
    const touch = { pointerType: 'touch', isPrimary: true, bubbles: true, clientX: 40, clientY: 40 };
    await row.locator('.message__text').dispatchEvent('pointerdown', touch);
    await row.locator('.message__text').dispatchEvent('pointerup', touch);
    await row.locator('.message__text').dispatchEvent('pointerdown', touch);
    await toolbar.waitFor();
    await row.locator('.message__text').dispatchEvent('pointerup', touch);
    expect(await toolbar.getByRole('button').allTextContents()).toEqual(['React', 'Reply']);

    await toolbar.getByRole('button', { name: 'React', exact: true }).tap();
    await page.getByRole('dialog', { name: 'Add a reaction' }).waitFor();
    expect(await hasHorizontalScroll(page)).toBe(false);
    expect(seriousViolations(await runAxe(page))).toEqual([]);
    await page.getByRole('dialog', { name: 'Add a reaction' }).getByRole('button', { name: 'eyes', exact: true }).tap();
    await expect.poll(() => reactionsOf(row), POLL).toEqual([['👀 1', 'true']]);

    // A touch elsewhere hides the actions again.
    await page.getByRole('heading', { level: 1 }).tap();
    await expect.poll(() => toolbar.count(), POLL).toBe(0);
    expect(consoleWatch.errors).toEqual([]);
    await context.close();
  });
});
