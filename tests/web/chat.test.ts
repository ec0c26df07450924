import type { Browser, Page } from 'playwright-core';
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
import { signUp, trpcClient, uniqueName } from '../support/clients.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const freshRoom = (prefix: string) => uniqueName(prefix).toLowerCase();

/** Distance in pixels between the bottom of the log's content and the bottom of its viewport. */
function distanceFromBottom(page: Page): Promise<number> {
  return page
    .getByRole('log')
    .evaluate((log: { scrollHeight: number; scrollTop: number; clientHeight: number }) =>
      Math.round(log.scrollHeight - log.scrollTop - log.clientHeight),
    );
}

describeBrowser('room page', () => {
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

  test('two people chat live: messages, typing, presence and counts update without a reload', async () => {
    const room = freshRoom('live');
    const alice = await signedInContext(browser, server.baseUrl, { username: uniqueName('alice') });
    const bob = await signedInContext(browser, server.baseUrl, { username: uniqueName('bob') });
    const alicePage = await alice.context.newPage();
    const bobPage = await bob.context.newPage();
    await openRoom(alicePage, server.baseUrl, room);
    await openRoom(bobPage, server.baseUrl, room);

    // Both are members and both are online, in both views.
    for (const page of [alicePage, bobPage]) {
      await expect
        .poll(() => page.getByRole('list', { name: 'Members' }).locator('.member--online').count(), POLL)
        .toBe(2);
    }

    const aliceBox = alicePage.getByRole('textbox', { name: 'Message', exact: true });
    const aliceSend = alicePage.getByRole('button', { name: 'Send', exact: true });
    expect(await aliceSend.isDisabled()).toBe(true);
    await aliceBox.fill('   ');
    expect(await aliceSend.isDisabled()).toBe(true);
    await aliceBox.press('Enter');

    await aliceBox.fill('');
    await aliceBox.pressSequentially('hello bob');
    await bobPage.getByText(`${alice.user.username} is typing…`).waitFor();
    await aliceBox.press('Enter');
    expect(await aliceBox.inputValue()).toBe('');

    await expect.poll(() => messageTexts(bobPage), POLL).toEqual(['hello bob']);
    await expect.poll(() => messageTexts(alicePage), POLL).toEqual(['hello bob']);
    const aliceOwn = alicePage.getByRole('log').locator('.message--own');
    await expect.poll(() => aliceOwn.count(), POLL).toBe(1);
    expect(await bobPage.getByRole('log').locator('.message--own').count()).toBe(0);
    const authorOnBob = await bobPage.getByRole('log').locator('.message__author').first().textContent();
    expect(authorOnBob).toBe(alice.user.username);
    const time = bobPage.getByRole('log').locator('time').first();
    expect(await time.getAttribute('title')).toMatch(/\d{4}/);

    // Shift+Enter makes a new line; the line break survives the trip.
    const bobBox = bobPage.getByRole('textbox', { name: 'Message', exact: true });
    await bobBox.fill('first line');
    await bobBox.press('Shift+Enter');
    await bobBox.pressSequentially('second line');
    await bobPage.getByRole('button', { name: 'Send', exact: true }).click();
    await expect.poll(() => messageTexts(alicePage), POLL).toEqual(['hello bob', 'first line\nsecond line']);
    const lastText = alicePage.getByRole('log').locator('.message__text').last();
    // innerText follows the rendering: it keeps the break only if the page shows it.
    expect(await lastText.innerText()).toBe('first line\nsecond line');
    expect((await lastText.boundingBox())?.height).toBeGreaterThan(30);

    // Counts: two messages here, one each, updated as they arrived.
    for (const page of [alicePage, bobPage]) {
      await expect
        .poll(() => page.getByRole('region', { name: 'Room statistics' }).locator('.stat-total').textContent(), POLL)
        .toBe('2 messages in this room');
      const row = page.getByRole('row', { name: new RegExp(`^${bob.user.username}\\b`) });
      await expect.poll(() => row.locator('td').allTextContents(), POLL).toEqual(['1', '1']);
    }

    // Bob closes his tab: Alice sees him go offline, still listed after the online members.
    await bobPage.close();
    await expect
      .poll(() => alicePage.getByRole('list', { name: 'Members' }).locator('.member').allTextContents(), POLL)
      .toEqual([`${alice.user.username} (you)online`, `${bob.user.username}offline`]);

    expect(alice.console.errors).toEqual([]);
    expect(bob.console.errors).toEqual([]);
    await alice.context.close();
    await bob.context.close();
  });

  test('the composer counts down near the 4000-character limit and refuses more', async () => {
    const { context, console: consoleWatch } = await signedInContext(browser, server.baseUrl);
    const page = await context.newPage();
    await openRoom(page, server.baseUrl, freshRoom('long'));
    const box = page.getByRole('textbox', { name: 'Message', exact: true });
    const send = page.getByRole('button', { name: 'Send', exact: true });

    await box.fill('x'.repeat(3000));
    expect(await page.locator('.composer__counter').count()).toBe(0);
    await box.fill('x'.repeat(3990));
    expect(await page.locator('.composer__counter').textContent()).toBe('10 characters left');
    expect(await send.isEnabled()).toBe(true);
    await box.fill('x'.repeat(4001));
    expect(await page.locator('.composer__counter').textContent()).toMatch(/^1 characters? over/);
    expect(await send.isDisabled()).toBe(true);
    await box.press('Enter');
    expect(await box.inputValue()).toHaveLength(4001);
    expect(await messageTexts(page)).toEqual([]);
    expect(consoleWatch.errors).toEqual([]);
    await context.close();
  });

  test('history survives a reload, opening at the newest message', async () => {
    const room = freshRoom('reload');
    const { user, context, console: consoleWatch } = await signedInContext(browser, server.baseUrl);
    const api = trpcClient(server.baseUrl, user.token);
    await api.rooms.join.mutate({ room });
    const texts = Array.from({ length: 30 }, (_, index) => `note ${index + 1}`);
    for (const text of texts) await api.messages.post.mutate({ room, text });

    const page = await context.newPage();
    await openRoom(page, server.baseUrl, room);
    await page.getByRole('textbox', { name: 'Message', exact: true }).fill('and one from the page');
    await page.keyboard.press('Enter');
    await expect.poll(() => messageTexts(page), POLL).toEqual([...texts, 'and one from the page']);
    await expect.poll(() => page.locator('.message--pending').count(), POLL).toBe(0);

    await page.reload();
    await expect.poll(() => page.getByRole('status').textContent(), POLL).toBe('Live');
    await expect.poll(() => messageTexts(page), POLL).toEqual([...texts, 'and one from the page']);
    await expect.poll(() => distanceFromBottom(page), POLL).toBeLessThanOrEqual(2);
    expect(consoleWatch.errors).toEqual([]);
    await context.close();
  });

  test('markup in a message is shown as text and never runs', async () => {
    const room = freshRoom('xss');
    // Without the server's Content-Security-Policy, so only the app's own escaping stands between
    // the message and the page: this test must fail if text were ever rendered as HTML.
    const {
      user,
      context,
      console: consoleWatch,
    } = await signedInContext(browser, server.baseUrl, {
      bypassCSP: true,
    });
    const attacker = await signUp(server.baseUrl);
    const api = trpcClient(server.baseUrl, attacker.token);
    await api.rooms.join.mutate({ room });
    const image = '<img src=x onerror="window.__pwned = 1">';
    const script = '<script>window.__pwned = 2</script>';
    await api.messages.post.mutate({ room, text: image });

    const page = await context.newPage();
    await openRoom(page, server.baseUrl, room);
    await api.messages.post.mutate({ room, text: script });
    const typed = '<b onmouseover="window.__pwned = 3">bold?</b>';
    await page.getByRole('textbox', { name: 'Message', exact: true }).fill(typed);
    await page.keyboard.press('Enter');

    await expect.poll(() => messageTexts(page), POLL).toEqual([image, script, typed]);
    const log = page.getByRole('log');
    expect(await log.locator('img, script, b').count()).toBe(0);
    await log.locator('.message__text').last().hover();
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(user.username).toBeTruthy();
    expect(consoleWatch.errors).toEqual([]);
    await context.close();
  });

  test('markdown cannot smuggle in scripts: javascript: and data: links, images, raw HTML and autolinks stay harmless', async () => {
    const room = freshRoom('mdxss');
    // Without the Content-Security-Policy again: the renderer alone must make these harmless.
    const { context, console: consoleWatch } = await signedInContext(browser, server.baseUrl, { bypassCSP: true });
    const attacker = await signUp(server.baseUrl);
    const api = trpcClient(server.baseUrl, attacker.token);
    await api.rooms.join.mutate({ room });
    const texts = [
      'x1 [click me](javascript:window.__pwned=1) [me too](JavaScript:window.__pwned=2)',
      'x2 [data](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX19wd25lZD0zPC9zY3JpcHQ+) <javascript:window.__pwned=4>',
      'x3 ![pic](https://example.com/a.png) ![x](x" onerror="window.__pwned=5)',
      'x4 <img src=x onerror="window.__pwned=6"> <iframe src="javascript:window.__pwned=7"></iframe>',
      'x5\n<script>window.__pwned=8</script>\n\n<div onclick="window.__pwned=9">div</div>',
      'x6 **<b onmouseover="window.__pwned=10">bold</b>** [ok](https://example.com/ "t\\" onmouseover=\\"window.__pwned=11")',
      'x7 [relative](/api/auth/sign-out) [vb](vbscript:msgbox(1)) [file](file:///etc/passwd)',
    ];
    for (const text of texts) await api.messages.post.mutate({ room, text });

    const page = await context.newPage();
    await openRoom(page, server.baseUrl, room);
    const log = page.getByRole('log');
    // Wait for the markdown renderer: x6's bold is markdown. React reveals the messages' Suspense
    // boundaries in more than one commit, so also wait until no message still shows the source of a
    // link the renderer turns into text (x3's broken image stays source text by design).
    await expect.poll(() => log.locator('.message__text strong').count(), POLL).toBe(1);
    const linkSource = /\]\((javascript|data|\/api|vbscript|file):?/i;
    await expect
      .poll(
        async () => (await log.locator('.message__text').allTextContents()).filter((text) => linkSource.test(text)),
        POLL,
      )
      .toEqual([]);
    expect(await log.locator('script, img, iframe, object, embed, div[onclick], b').count()).toBe(0);
    const hrefs = await log
      .locator('a')
      .evaluateAll((anchors: Array<{ getAttribute(name: string): string | null }>) =>
        anchors.map((anchor) => anchor.getAttribute('href')),
      );
    // Only the https links survive, as links; everything else is text.
    expect(hrefs).toEqual(['https://example.com/a.png', 'https://example.com/']);
    const x4 = await log.locator('.message__text').filter({ hasText: /^x4 / }).textContent();
    expect(x4).toContain('<img src=x onerror="window.__pwned=6">');
    const x5 = await log.locator('.message__text').filter({ hasText: /^x5/ }).textContent();
    expect(x5).toContain('<script>window.__pwned=8</script>');
    // x2's base64 holds "X1": match x1 by how its text starts.
    expect(await log.locator('.message__text').filter({ hasText: /^x1 / }).textContent()).toBe('x1 click me me too');

    // Click and hover everything that looks clickable.
    for (const text of ['click me', 'me too', 'data', 'relative', 'vb', 'file']) {
      await log.getByText(text, { exact: true }).click();
    }
    await log.locator('.message__text strong').hover();
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(page.url()).toBe(`${server.baseUrl}/rooms/${room}`);
    expect(consoleWatch.errors).toEqual([]);
    await context.close();
  });

  test('eight tabs of one user all receive a new message', async () => {
    const room = freshRoom('tabs');
    const { user, context, console: consoleWatch } = await signedInContext(browser, server.baseUrl);
    const tabs: Page[] = [];
    for (let index = 0; index < 8; index += 1) {
      const tab = await context.newPage();
      await openRoom(tab, server.baseUrl, room);
      tabs.push(tab);
    }
    const friend = await signUp(server.baseUrl);
    const api = trpcClient(server.baseUrl, friend.token);
    await api.rooms.join.mutate({ room });
    await api.messages.post.mutate({ room, text: 'hello, all of you' });

    for (const tab of tabs) await expect.poll(() => messageTexts(tab), POLL).toEqual(['hello, all of you']);
    // Eight tabs are still one member, online once.
    const members = tabs[0]?.getByRole('list', { name: 'Members' }).locator('.member');
    await expect
      .poll(() => members?.allTextContents(), POLL)
      .toEqual([`${user.username} (you)online`, `${friend.username}offline`]);
    expect(consoleWatch.errors).toEqual([]);
    await context.close();
  });

  test('older history loads on scroll without jumping; new messages wait behind a button', async () => {
    const room = freshRoom('history');
    const writer = await signUp(server.baseUrl);
    const api = trpcClient(server.baseUrl, writer.token);
    await api.rooms.join.mutate({ room });
    for (let index = 1; index <= 130; index += 1) await api.messages.post.mutate({ room, text: `message ${index}` });

    const { context, console: consoleWatch } = await signedInContext(browser, server.baseUrl);
    const page = await context.newPage();
    await openRoom(page, server.baseUrl, room);
    const log = page.getByRole('log');
    const items = log.locator('.message');
    await expect.poll(() => items.count(), POLL).toBe(50);
    expect(await items.last().textContent()).toContain('message 130');
    await expect.poll(() => distanceFromBottom(page), POLL).toBeLessThanOrEqual(2);

    // Scroll to the top: the message that was first stays exactly where it was on screen.
    const offsetOf81 = () =>
      page.evaluate<number>(`(() => {
        const log = document.querySelector('[role="log"]');
        const item = [...log.querySelectorAll('.message')].find((li) => li.textContent.endsWith('message 81'));
        return Math.round(item.getBoundingClientRect().top - log.getBoundingClientRect().top);
      })()`);
    await log.evaluate((element: { scrollTop: number }) => {
      element.scrollTop = 0;
    });
    const before = await offsetOf81();
    await expect.poll(() => items.count(), POLL).toBe(100);
    expect(Math.abs((await offsetOf81()) - before)).toBeLessThanOrEqual(2);
    expect(await items.first().textContent()).toContain('message 31');

    await log.evaluate((element: { scrollTop: number }) => {
      element.scrollTop = 0;
    });
    await expect.poll(() => items.count(), POLL).toBe(130);
    await log.getByText(`This is the beginning of #${room}.`).waitFor();
    expect(await messageTexts(page)).toEqual(Array.from({ length: 130 }, (_, index) => `message ${index + 1}`));

    // Reading old messages: a new one does not move the view; a button offers to jump.
    const readingAt = await log.evaluate((element: { scrollTop: number }) => element.scrollTop);
    await api.messages.post.mutate({ room, text: 'something new' });
    const jump = page.getByRole('button', { name: /1 new message/ });
    await jump.waitFor();
    expect(await log.evaluate((element: { scrollTop: number }) => element.scrollTop)).toBe(readingAt);
    await jump.click();
    await expect.poll(() => distanceFromBottom(page), POLL).toBeLessThanOrEqual(2);
    await expect.poll(() => jump.count(), POLL).toBe(0);

    // At the bottom, new messages scroll into view by themselves.
    await api.messages.post.mutate({ room, text: 'and another' });
    await expect.poll(() => items.last().textContent(), POLL).toContain('and another');
    await expect.poll(() => distanceFromBottom(page), POLL).toBeLessThanOrEqual(2);
    expect(await page.getByRole('button', { name: /new message/ }).count()).toBe(0);
    expect(consoleWatch.errors).toEqual([]);
    await context.close();
  });

  test('a failed send stays visible with Retry, and retrying never duplicates', async () => {
    const room = freshRoom('retry');
    const { user, context, console: consoleWatch } = await signedInContext(browser, server.baseUrl);
    // Aborted requests are reported by the browser itself.
    consoleWatch.allow(/ERR_FAILED/);
    const page = await context.newPage();
    await openRoom(page, server.baseUrl, room);
    const box = page.getByRole('textbox', { name: 'Message', exact: true });
    const api = trpcClient(server.baseUrl, user.token);
    const stored = async (text: string) =>
      (await api.messages.list.query({ room })).messages.filter((message) => message.text === text).length;

    // 1. The request never reaches the server.
    await page.route('**/api/trpc/*messages.post*', (route) => route.abort());
    await box.fill('first attempt fails');
    await box.press('Enter');
    const failed = page.getByRole('log').locator('.message--failed');
    await failed.waitFor();
    expect(await failed.textContent()).toContain('Not sent');
    expect(await stored('first attempt fails')).toBe(0);
    await page.unroute('**/api/trpc/*messages.post*');
    await failed.getByRole('button', { name: 'Retry', exact: true }).click();
    await expect.poll(() => messageTexts(page), POLL).toEqual(['first attempt fails']);
    await expect.poll(() => page.locator('.message--pending, .message--failed').count(), POLL).toBe(0);
    expect(await stored('first attempt fails')).toBe(1);

    // 2. The server stores the message but its answer is lost, and no live event tells the page
    //    (its WebSocket is held by a stub that never answers): Retry must not post it twice.
    const quiet = await context.newPage();
    await quiet.routeWebSocket(/\/api\/trpc/, () => {});
    await quiet.goto(`${server.baseUrl}/rooms/${room}`);
    await quiet.getByRole('log').waitFor();
    await quiet.route('**/api/trpc/*messages.post*', async (route) => {
      await route.fetch();
      await route.abort();
    });
    const quietBox = quiet.getByRole('textbox', { name: 'Message', exact: true });
    await quietBox.fill('answer lost');
    await quietBox.press('Enter');
    const quietFailed = quiet.getByRole('log').locator('.message--failed');
    await quietFailed.waitFor();
    expect(await stored('answer lost')).toBe(1);
    await quiet.unroute('**/api/trpc/*messages.post*');
    await quietFailed.getByRole('button', { name: 'Retry', exact: true }).click();
    await expect.poll(() => messageTexts(quiet), POLL).toEqual(['first attempt fails', 'answer lost']);
    expect(await quiet.locator('.message--pending, .message--failed').count()).toBe(0);
    expect(await stored('answer lost')).toBe(1);
    // The first tab, which is live, got it once too.
    await expect.poll(() => messageTexts(page), POLL).toEqual(['first attempt fails', 'answer lost']);

    expect(consoleWatch.errors).toEqual([]);
    await context.close();
  });

  test('passes axe and fits 375 px without sideways scrolling, with long words and a long room name', async () => {
    const room = `a${'-long-room-name'.repeat(4)}`.slice(0, 64);
    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 375, height: 740 },
    ]) {
      const { context, console: consoleWatch } = await signedInContext(browser, server.baseUrl, { viewport });
      const page = await context.newPage();
      await openRoom(page, server.baseUrl, room);
      await page.getByRole('textbox', { name: 'Message', exact: true }).fill(`https://example.com/${'x'.repeat(300)}`);
      await page.keyboard.press('Enter');
      await expect.poll(() => page.locator('.message--pending').count(), POLL).toBe(0);
      await expect
        .poll(() => page.getByRole('list', { name: 'Members' }).locator('.member').count(), POLL)
        .toBe(viewport.width === 375 ? 2 : 1);
      expect(await hasHorizontalScroll(page)).toBe(false);
      const violations = await runAxe(page);
      expect(seriousViolations(violations)).toEqual([]);
      expect(consoleWatch.errors).toEqual([]);
      await context.close();
    }
  });
});
