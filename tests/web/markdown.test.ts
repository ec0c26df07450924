import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  describeBrowser,
  hasHorizontalScroll,
  launchBrowser,
  openRoom,
  POLL,
  runAxe,
  signedInContext,
} from '../support/browser.ts';
import { signUp, trpcClient, uniqueName } from '../support/clients.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const freshRoom = (prefix: string) => uniqueName(prefix).toLowerCase();
const LINK_REL = 'noopener noreferrer nofollow ugc';

/** The rendered text of the message posted with `marker` in it (markdown rendering loads lazily). */
function body(page: Page, marker: string): Locator {
  return page.getByRole('log').locator('.message__text').filter({ hasText: marker });
}

/** Evaluates in the page; a string, since this file is type-checked without the DOM library. */
function pageValue<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate<T>(expression);
}

describeBrowser('markdown in messages', () => {
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

  test('bold, italic, strikethrough, code, code blocks, quotes, lists and autolinked URLs render; links open safely', async () => {
    const room = freshRoom('md');
    const { context, console: consoleWatch } = await signedInContext(browser, server.baseUrl);
    const author = await signUp(server.baseUrl);
    const api = trpcClient(server.baseUrl, author.token);
    await api.rooms.join.mutate({ room });
    await api.messages.post.mutate({ room, text: 'm1 **bold** *italic* _also italic_ ~~gone~~ `a < b`' });
    await api.messages.post.mutate({ room, text: 'm2\n```ts\nconst x = "<b>";\n  indented();\n```' });
    await api.messages.post.mutate({ room, text: '> m3 quoted\n> still quoted\n\nafter the quote' });
    await api.messages.post.mutate({ room, text: 'm4\n\n- one\n- two\n  - nested\n\n1. first\n2. second' });
    await api.messages.post.mutate({
      room,
      text: 'm5 see https://example.com/path?q=1 and www.example.org, or [the docs](https://docs.example.com/a)',
    });
    await api.messages.post.mutate({ room, text: 'm6 # not a heading\nline two\n    not code either' });

    const page = await context.newPage();
    await openRoom(page, server.baseUrl, room);
    // Plain text first; the renderer is a separate chunk.
    await expect.poll(() => body(page, 'm1').locator('strong').count(), POLL).toBe(1);

    const m1 = body(page, 'm1');
    expect(await m1.locator('strong').textContent()).toBe('bold');
    expect(await m1.locator('em').allTextContents()).toEqual(['italic', 'also italic']);
    expect(await m1.locator('del').textContent()).toBe('gone');
    expect(await m1.locator('code').textContent()).toBe('a < b');

    const m2 = body(page, 'm2');
    expect(await m2.locator('pre > code').textContent()).toBe('const x = "<b>";\n  indented();\n');
    expect(await m2.locator('b').count()).toBe(0);

    const m3 = body(page, 'm3');
    expect(await m3.locator('blockquote').textContent()).toBe('m3 quoted\nstill quoted');
    expect(await m3.locator('p').last().textContent()).toBe('after the quote');

    const m4 = body(page, 'm4');
    expect(await m4.locator('ul > li').count()).toBe(3);
    expect(await m4.locator('ul ul > li').textContent()).toBe('nested');
    expect(await m4.locator('ol > li').allTextContents()).toEqual(['first', 'second']);

    const links = body(page, 'm5').getByRole('link');
    expect(await links.count()).toBe(3);
    const attributes = await links.evaluateAll((anchors: Array<{ getAttribute(name: string): string | null }>) =>
      anchors.map((anchor) => ({
        href: anchor.getAttribute('href'),
        rel: anchor.getAttribute('rel'),
        target: anchor.getAttribute('target'),
      })),
    );
    expect(attributes).toEqual([
      { href: 'https://example.com/path?q=1', rel: LINK_REL, target: '_blank' },
      { href: 'http://www.example.org/', rel: LINK_REL, target: '_blank' },
      { href: 'https://docs.example.com/a', rel: LINK_REL, target: '_blank' },
    ]);
    expect(await links.last().textContent()).toBe('the docs');

    // Chat text, not a document: no headings, and indentation is not a code block.
    const m6 = body(page, 'm6');
    expect(await m6.locator('h1, h2, h3, pre').count()).toBe(0);
    expect(await m6.textContent()).toBe('m6 # not a heading\nline two\nnot code either');

    const violations = await runAxe(page);
    expect(violations).toEqual([]);
    expect(consoleWatch.errors).toEqual([]);
    await context.close();
  });

  test('a long code block and a long URL fit 375 px without sideways scrolling', async () => {
    const room = freshRoom('mdnarrow');
    const { context, console: consoleWatch } = await signedInContext(browser, server.baseUrl, {
      viewport: { width: 375, height: 700 },
    });
    const author = await signUp(server.baseUrl);
    const api = trpcClient(server.baseUrl, author.token);
    await api.rooms.join.mutate({ room });
    await api.messages.post.mutate({ room, text: `\`\`\`\n${'x'.repeat(300)}\n\`\`\`` });
    await api.messages.post.mutate({ room, text: `https://example.com/${'a'.repeat(300)}` });

    const page = await context.newPage();
    await openRoom(page, server.baseUrl, room);
    await expect.poll(() => page.getByRole('log').locator('pre').count(), POLL).toBe(1);
    await expect.poll(() => page.getByRole('log').getByRole('link').count(), POLL).toBe(1);
    expect(await hasHorizontalScroll(page)).toBe(false);
    expect(await pageValue<boolean>(page, 'document.querySelector(".markdown pre").scrollWidth > 300')).toBe(true);
    expect(consoleWatch.errors).toEqual([]);
    await context.close();
  });
});
