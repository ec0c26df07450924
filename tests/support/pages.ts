import { expect } from 'vitest';

/** A page of a paged list: its rows under `Field` (rooms, users…), plus hasMore and nextCursor. */
export type Page<Field extends string, Row> = { [K in Field]: Row[] } & { hasMore: boolean; nextCursor: string | null };

/**
 * Follows `nextCursor` from the first page to the last and returns every row in order. On the way
 * it checks the paging contract: full pages while `hasMore`, a cursor exactly when more follow.
 */
export async function walkPages<Field extends string, Row>(
  limit: number,
  fetchPage: (cursor: string | undefined) => Promise<Page<Field, Row>>,
  field: Field,
): Promise<Row[]> {
  const rows: Row[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1000; pages += 1) {
    const page = await fetchPage(cursor);
    const pageRows = page[field] as Row[];
    rows.push(...pageRows);
    expect(page.nextCursor === null, JSON.stringify(page)).toBe(!page.hasMore);
    if (!page.hasMore) {
      expect(pageRows.length).toBeLessThanOrEqual(limit);
      return rows;
    }
    expect(pageRows).toHaveLength(limit);
    cursor = page.nextCursor ?? undefined;
  }
  throw new Error('more than 1000 pages: the cursor does not advance');
}
