import type { Db } from '../db/client.ts';
import type { SearchPage, SearchRequest } from './store.ts';

/** Full-text search on SQLite (FTS5): implemented in the search task of issue 13. */
export function searchMessages(_db: Db, _request: SearchRequest): SearchPage {
  throw new Error('search is not implemented yet');
}
