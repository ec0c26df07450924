/**
 * Checks every relative link in README.md and docs/**\/*.md: the file must exist and a `#fragment`
 * must name a heading of the target (GitHub's slugs). Exits 1 and lists the broken ones.
 *
 *   npx tsx scripts/check-doc-links.ts
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownFiles(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

/** Markdown without fenced code blocks, where `#` lines are not headings and links are not links. */
function withoutFences(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

/** ... and without inline code. */
function prose(text: string): string {
  return withoutFences(text).replace(/`[^`\n]*`/g, '``');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading = ''] of withoutFences(text).matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const base = heading
      .replace(/`/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

const files = [join(root, 'README.md'), ...markdownFiles(join(root, 'docs'))];
const problems: string[] = [];
let checked = 0;
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  for (const [, target = ''] of prose(text).matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
    checked += 1;
    const [pathPart = '', fragment] = target.split('#');
    const targetFile = pathPart === '' ? file : resolve(dirname(file), decodeURI(pathPart));
    const where = `${relative(root, file)}: ${target}`;
    if (!existsSync(targetFile)) {
      problems.push(`${where} (no such file)`);
      continue;
    }
    if (fragment !== undefined && targetFile.endsWith('.md')) {
      if (!anchors(readFileSync(targetFile, 'utf8')).has(fragment)) problems.push(`${where} (no such heading)`);
    }
  }
}

console.log(`${checked} relative links in ${files.length} files`);
for (const problem of problems) console.log(`broken: ${problem}`);
process.exit(problems.length > 0 ? 1 : 0);
