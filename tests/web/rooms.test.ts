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
} from '../support/browser.ts';
import { type TrpcClient, trpcClient, uniqueName } from '../support/clients.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

/** The room sidebar and drawer, unread badges, read position and moving between rooms. */

const freshRoom = (prefix: string) => uniqueName(prefix).toLowerCase();

/** The sidebar (desktop) holding my rooms. */
function roomsNav(page: Page): Locator {
  return page.getByRole('navigation', { name: 'Rooms' });
}

/** A room's link in the sidebar, whatever its badges. */
function roomLink(scope: Page | Locator, room: string): Locator {
  return scope.locator(`a.my-room[data-room="${room}"]`);
}

/**
 * A room link's accessible name as Chromium computes it, e.g. "#general, 1 mention, 2 unread"
 * (the badges are flex items, which puts a space before each comma: it is dropped here).
 */
async function linkName(link: Locator): Promise<string> {
  const snapshot = await link.ariaSnapshot();
  const name = /^- link "(.*)"/.exec(snapshot)?.[1] ?? snapshot;
  return name.replace(/\s+,/g, ',');
}

async function lastReadSeq(api: TrpcClient, room: string): Promise<number | undefined> {
  return (await api.rooms.mine.query()).rooms.find((row) => row.name === room)?.lastReadSeq;
}

/** The texts of the messages just before and just after the "New messages" divider. */
function aroundDivider(page: Page): Promise<[string, string] | null> {
  return page.evaluate<[string, string] | null>(`(() => {
    const divider = document.querySelector('[role="log"] .log-unread');
    if (!divider) return null;
    let before = divider.previousElementSibling;
    while (before && !before.matches('.message')) before = before.previousElementSibling;
    const after = divider.nextElementSibling;
    const text = (item) => item?.querySelector('.message__text')?.textContent ?? '';
    return [text(before), text(after)];
  })()`);
}

/** Whether the divider is inside the visible part of the log. */
function dividerOnScreen(page: Page): Promise<boolean> {
  return page.evaluate<boolean>(`(() => {
    const log = document.querySelector('[role="log"]').getBoundingClientRect();
    const divider = document.querySelector('[role="log"] .log-unread')?.getBoundingClientRect();
    return !!divider && divider.top >= log.top && divider.bottom <= log.bottom;
  })()`);
}

describeBrowser('rooms sidebar and read position', () => {
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

  test('a badge appears live, and clears when the room is read, in a second tab of the same user too', async () => {
    const here = freshRoom('here');
    const busy = freshRoom('busy');
    const alice = await signedInContext(browser, server.baseUrl, { username: uniqueName('alice') });
    const bob = await signedInContext(browser, server.baseUrl, { username: uniqueName('bob') });
    const bobApi = trpcClient(server.baseUrl, bob.user.token);
    for (const room of [here, busy]) await bobApi.rooms.join.mutate({ room });

    const tab1 = await bob.context.newPage();
    const tab2 = await bob.context.newPage();
    await openRoom(tab1, server.baseUrl, here);
    await openRoom(tab2, server.baseUrl, here);
    for (const tab of [tab1, tab2]) {
      await expect.poll(() => linkName(roomLink(roomsNav(tab), busy)), POLL).toBe(`#${busy}`);
      expect(await tab.title()).toBe(`#${here} · atlas-chat`);
    }

    // Alice, in her own browser, writes in the other room, once naming Bob.
    const alicePage = await alice.context.newPage();
    await openRoom(alicePage, server.baseUrl, busy);
    const box = alicePage.getByRole('textbox', { name: 'Message', exact: true });
    for (const text of ['anyone around?', `@${bob.user.username} have a look`]) {
      await box.fill(text);
      await box.press('Enter');
    }
    await expect.poll(() => alicePage.locator('.message--pending').count(), POLL).toBe(0);

    for (const tab of [tab1, tab2]) {
      await expect.poll(() => linkName(roomLink(tab, busy)), POLL).toBe(`#${busy}, 1 mention, 2 unread`);
      await expect.poll(() => tab.title(), POLL).toBe(`(2) #${here} · atlas-chat`);
    }
    expect(seriousViolations(await runAxe(tab1))).toEqual([]);

    // Bob reads it in the first tab: the badge goes, there and in the second tab.
    await roomLink(tab1, busy).click();
    await tab1.waitForURL(`${server.baseUrl}/rooms/${busy}`);
    await expect.poll(() => messageTexts(tab1), POLL).toEqual(['anyone around?', `@${bob.user.username} have a look`]);
    await expect.poll(() => lastReadSeq(bobApi, busy), POLL).toBe(2);
    await expect.poll(() => linkName(roomLink(tab2, busy)), POLL).toBe(`#${busy}`);
    await expect.poll(() => tab2.title(), POLL).toBe(`#${here} · atlas-chat`);
    await expect.poll(() => tab1.title(), POLL).toBe(`#${busy} · atlas-chat`);
    const mine = (await bobApi.rooms.mine.query()).rooms.find((row) => row.name === busy);
    expect(mine).toMatchObject({ unreadCount: 0, mentionCount: 0 });

    // Back in the first room, the one just read has no badge.
    await tab1.goBack();
    await expect.poll(() => tab1.getByRole('heading', { level: 1 }).textContent(), POLL).toBe(`#${here}`);
    expect(await linkName(roomLink(tab1, busy))).toBe(`#${busy}`);

    expect(alice.console.errors).toEqual([]);
    expect(bob.console.errors).toEqual([]);
    await alice.context.close();
    await bob.context.close();
  });

  test('switching rooms stays on the room page; back, forward, Alt+Up and Alt+Down move between rooms', async () => {
    const { user, context, console: consoleWatch } = await signedInContext(browser, server.baseUrl);
    const api = trpcClient(server.baseUrl, user.token);
    const rooms = [freshRoom('one'), freshRoom('two'), freshRoom('three')];
    for (const room of rooms) {
      await api.rooms.join.mutate({ room });
      await api.messages.post.mutate({ room, text: `in ${room}` });
    }
    const [one, two] = rooms as [string, string, string];
    const page = await context.newPage();
    const visited: string[] = [];
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) visited.push(frame.url());
    });
    const heading = page.getByRole('heading', { level: 1 });
    const shows = async (room: string) => {
      await expect.poll(() => heading.textContent(), POLL).toBe(`#${room}`);
      await expect.poll(() => messageTexts(page), POLL).toEqual([`in ${room}`]);
      expect(page.url()).toBe(`${server.baseUrl}/rooms/${room}`);
      await expect.poll(() => roomLink(page, room).getAttribute('aria-current'), POLL).toBe('page');
    };

    await openRoom(page, server.baseUrl, one);
    await shows(one);
    await roomLink(page, two).click();
    await shows(two);
    await page.goBack();
    await shows(one);
    await page.goForward();
    await shows(two);

    // Alt+Down and Alt+Up follow the sidebar's order, wrapping around at the ends.
    const order = (await roomsNav(page)
      .locator('a.my-room')
      .evaluateAll((links: Array<{ getAttribute(name: string): string | null }>) =>
        links.map((link) => link.getAttribute('data-room')),
      )) as string[];
    const ours = order.filter((room) => rooms.includes(room));
    expect(ours).toHaveLength(3);
    let at = order.indexOf(two);
    for (const [key, step] of [
      ['Alt+ArrowDown', 1],
      ['Alt+ArrowDown', 1],
      ['Alt+ArrowDown', 1],
      ['Alt+ArrowUp', -1],
    ] as const) {
      await page.keyboard.press(key);
      at = (at + step + order.length) % order.length;
      const room = order[at] as string;
      await expect.poll(() => heading.textContent(), POLL).toBe(`#${room}`);
      await expect.poll(() => messageTexts(page), POLL).toEqual([`in ${room}`]);
    }

    // Never by way of the join page.
    expect(visited.filter((url) => !url.includes('/rooms/'))).toEqual([]);
    expect(consoleWatch.errors).toEqual([]);
    await context.close();
  });

  test('the "New messages" divider sits at the first unread message after a reload', async () => {
    const room = freshRoom('divider');
    const alice = await signedInContext(browser, server.baseUrl, { username: uniqueName('alice') });
    const bob = await signedInContext(browser, server.baseUrl, { username: uniqueName('bob') });
    const bobApi = trpcClient(server.baseUrl, bob.user.token);
    await bobApi.rooms.join.mutate({ room });
    const alicePage = await alice.context.newPage();
    await openRoom(alicePage, server.baseUrl, room);
    const box = alicePage.getByRole('textbox', { name: 'Message', exact: true });
    const say = async (text: string) => {
      await box.fill(text);
      await box.press('Enter');
      await expect.poll(() => alicePage.locator('.message--pending').count(), POLL).toBe(0);
    };
    for (const text of ['m1', 'm2', 'm3']) await say(text);

    // First visit: all three are new; with the newest on screen in a focused tab they are read.
    const page = await bob.context.newPage();
    await openRoom(page, server.baseUrl, room);
    await expect.poll(() => aroundDivider(page), POLL).toEqual(['', 'm1']);
    await expect.poll(() => lastReadSeq(bobApi, room), POLL).toBe(3);

    // Bob switches to another window: what arrives now is not read, however long it is on screen.
    await page.evaluate(`document.hasFocus = () => false; window.dispatchEvent(new Event('blur'))`);
    for (const text of ['m4', 'm5']) await say(text);
    await expect.poll(() => messageTexts(page), POLL).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    await expect.poll(() => page.title(), POLL).toBe(`(2) #${room} · atlas-chat`);
    expect(await lastReadSeq(bobApi, room)).toBe(3);

    await page.reload();
    await expect.poll(() => page.getByRole('status').textContent(), POLL).toBe('Live');
    await expect.poll(() => aroundDivider(page), POLL).toEqual(['m3', 'm4']);
    expect(await dividerOnScreen(page)).toBe(true);
    // Focused again after the reload: now they are read, and the divider stays where it was.
    await expect.poll(() => lastReadSeq(bobApi, room), POLL).toBe(5);
    await expect.poll(() => page.title(), POLL).toBe(`#${room} · atlas-chat`);
    expect(await aroundDivider(page)).toEqual(['m3', 'm4']);

    // Nothing unread: no divider.
    await page.reload();
    await expect.poll(() => messageTexts(page), POLL).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(await aroundDivider(page)).toBeNull();
    expect(seriousViolations(await runAxe(page))).toEqual([]);
    expect(alice.console.errors).toEqual([]);
    expect(bob.console.errors).toEqual([]);
    await alice.context.close();
    await bob.context.close();
  });

  test('far behind: the room opens on the page around the first unread; "Jump to first unread" returns to it', async () => {
    const room = freshRoom('behind');
    const { user, context, console: consoleWatch } = await signedInContext(browser, server.baseUrl);
    const api = trpcClient(server.baseUrl, user.token);
    await api.rooms.join.mutate({ room });
    const writer = trpcClient(server.baseUrl, (await signedInContext(browser, server.baseUrl)).user.token);
    await writer.rooms.join.mutate({ room });
    for (let index = 1; index <= 130; index += 1) await writer.messages.post.mutate({ room, text: `n${index}` });
    await api.rooms.markRead.mutate({ room, seq: 10 });

    const page = await context.newPage();
    await openRoom(page, server.baseUrl, room);
    await expect.poll(() => aroundDivider(page), POLL).toEqual(['n10', 'n11']);
    expect(await dividerOnScreen(page)).toBe(true);
    // The live stream brings everything after the page, up to the newest.
    await expect.poll(async () => (await messageTexts(page)).at(-1), POLL).toBe('n130');
    // The newest has not been on screen: the marker moved only as far as was seen.
    const seen = await lastReadSeq(api, room);
    expect(seen).toBeLessThan(130);
    expect(seen).toBeGreaterThanOrEqual(10);
    const jump = page.getByRole('button', { name: 'Jump to first unread' });
    expect(await jump.count()).toBe(0);

    const log = page.getByRole('log');
    await log.evaluate((element: { scrollTop: number; scrollHeight: number }) => {
      element.scrollTop = element.scrollHeight;
    });
    await expect.poll(() => lastReadSeq(api, room), POLL).toBe(130);
    await jump.waitFor();
    await jump.click();
    await expect.poll(() => dividerOnScreen(page), POLL).toBe(true);
    await expect.poll(() => jump.count(), POLL).toBe(0);
    // Focus lands on the first unread message.
    expect(
      await page.evaluate<string | undefined>(`document.activeElement?.querySelector('.message__text')?.textContent`),
    ).toBe('n11');
    expect(consoleWatch.errors).toEqual([]);
    await context.close();
  });

  test('375 px: the rooms drawer opens from the header with the badges, passes axe, and closes on a choice or Escape', async () => {
    const here = freshRoom('narrow');
    const other = freshRoom('other');
    const {
      user,
      context,
      console: consoleWatch,
    } = await signedInContext(browser, server.baseUrl, {
      viewport: { width: 375, height: 740 },
    });
    const api = trpcClient(server.baseUrl, user.token);
    for (const room of [here, other]) await api.rooms.join.mutate({ room });
    const writer = trpcClient(server.baseUrl, (await signedInContext(browser, server.baseUrl)).user.token);
    await writer.rooms.join.mutate({ room: other });
    await writer.messages.post.mutate({ room: other, text: 'over here' });

    const page = await context.newPage();
    await openRoom(page, server.baseUrl, here);
    expect(await roomsNav(page).count()).toBe(0);
    const open = page.getByRole('button', { name: /^Rooms\s*, 1 unread$/ });
    await open.waitFor();
    expect(await open.getAttribute('aria-expanded')).toBe('false');
    expect(await hasHorizontalScroll(page)).toBe(false);

    await open.click();
    const drawer = page.getByRole('dialog', { name: 'Rooms' });
    await drawer.waitFor();
    expect(await linkName(roomLink(drawer, other))).toBe(`#${other}, 1 unread`);
    expect(await roomLink(drawer, here).getAttribute('aria-current')).toBe('page');
    expect(seriousViolations(await runAxe(page))).toEqual([]);
    expect(await hasHorizontalScroll(page)).toBe(false);
    await page.keyboard.press('Escape');
    await expect.poll(() => drawer.count(), POLL).toBe(0);
    // Focus goes back to the button that opened it.
    expect(
      await open.evaluate(
        (button) => button === (button as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement,
      ),
    ).toBe(true);

    await open.click();
    await roomLink(drawer, other).click();
    await page.waitForURL(`${server.baseUrl}/rooms/${other}`);
    await expect.poll(() => drawer.count(), POLL).toBe(0);
    await expect.poll(() => messageTexts(page), POLL).toEqual(['over here']);
    await expect.poll(() => lastReadSeq(api, other), POLL).toBe(1);
    await expect.poll(() => page.getByRole('button', { name: 'Rooms', exact: true }).count(), POLL).toBe(1);
    expect(seriousViolations(await runAxe(page))).toEqual([]);
    expect(consoleWatch.errors).toEqual([]);
    await context.close();
  });

  test('join or create a room by name, browse every room with its counts, and leave one', async () => {
    const start = freshRoom('start');
    const made = freshRoom('made');
    const elsewhere = freshRoom('elsewhere');
    const { user, context, console: consoleWatch } = await signedInContext(browser, server.baseUrl);
    const api = trpcClient(server.baseUrl, user.token);
    const owner = await signedInContext(browser, server.baseUrl);
    const ownerApi = trpcClient(server.baseUrl, owner.user.token);
    await ownerApi.rooms.join.mutate({ room: elsewhere });
    for (const text of ['a', 'b']) await ownerApi.messages.post.mutate({ room: elsewhere, text });
    await owner.context.close();

    const page = await context.newPage();
    await openRoom(page, server.baseUrl, start);
    const nav = roomsNav(page);
    const field = nav.getByRole('textbox', { name: 'Join or create a room' });
    await field.fill('Not a room!');
    await field.press('Enter');
    await nav.getByText(/Room names are/).waitFor();
    expect(page.url()).toBe(`${server.baseUrl}/rooms/${start}`);
    await field.fill(made.toUpperCase());
    await nav.getByRole('button', { name: 'Go', exact: true }).click();
    await page.waitForURL(`${server.baseUrl}/rooms/${made}`);
    await expect.poll(() => page.getByRole('status').textContent(), POLL).toBe('Live');
    await roomLink(nav, made).waitFor();

    await nav.getByRole('button', { name: 'Browse all rooms' }).click();
    const dialog = page.getByRole('dialog', { name: 'All rooms' });
    await dialog.waitFor();
    const listed = dialog.getByRole('link', { name: new RegExp(`^#${elsewhere}`) });
    await expect.poll(() => listed.textContent(), POLL).toBe(`#${elsewhere}2 messages · 1 member`);
    expect(seriousViolations(await runAxe(page))).toEqual([]);
    await listed.click();
    await page.waitForURL(`${server.baseUrl}/rooms/${elsewhere}`);
    await expect.poll(() => dialog.count(), POLL).toBe(0);
    await expect.poll(() => messageTexts(page), POLL).toEqual(['a', 'b']);
    await roomLink(nav, elsewhere).waitFor();
    // A second tab has the room open when it is left in the first.
    const other = await context.newPage();
    await openRoom(other, server.baseUrl, elsewhere);

    await nav.getByRole('button', { name: `Leave #${elsewhere}` }).click();
    const confirm = page.getByRole('dialog', { name: `Leave #${elsewhere}?` });
    await confirm.getByRole('button', { name: 'Leave', exact: true }).click();
    await expect.poll(() => page.url(), POLL).not.toBe(`${server.baseUrl}/rooms/${elsewhere}`);
    expect(page.url()).toMatch(/\/rooms\//);
    await expect.poll(() => roomLink(nav, elsewhere).count(), POLL).toBe(0);
    expect((await api.rooms.mine.query()).rooms.map((row) => row.name)).not.toContain(elsewhere);
    const members = await api.rooms.members.query({ room: elsewhere });
    expect(members.users.map((member) => member.username)).not.toContain(user.username);

    // The other tab says so, and does not join again by itself; it does when asked.
    await other.getByRole('heading', { name: `You left #${elsewhere}` }).waitFor();
    expect((await api.rooms.mine.query()).rooms.map((row) => row.name)).not.toContain(elsewhere);
    await other.getByRole('button', { name: `Join #${elsewhere} again` }).click();
    await expect.poll(() => other.getByRole('status').textContent(), POLL).toBe('Live');
    await expect.poll(() => messageTexts(other), POLL).toEqual(['a', 'b']);
    await expect
      .poll(async () => (await api.rooms.mine.query()).rooms.map((row) => row.name), POLL)
      .toContain(elsewhere);
    expect(consoleWatch.errors).toEqual([]);
    await context.close();
  });
});
