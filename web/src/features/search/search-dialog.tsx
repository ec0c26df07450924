import { keepPreviousData, useInfiniteQuery } from '@tanstack/react-query';
import { type KeyboardEvent, useEffect, useId, useMemo, useRef, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import type { Message } from '../../lib/api-types.ts';
import { describeApiError } from '../../lib/errors.ts';
import { fullTime, shortTime } from '../../lib/format-time.ts';
import { useTRPCClient } from '../../lib/trpc.ts';
import { messageHref } from './message-link.ts';
import { SearchSnippet } from './search-snippet.tsx';
import './search.css';

/** Searching starts once typing pauses this long (the server rate-limits searches per user). */
const DEBOUNCE_MS = 250;
const PAGE_SIZE = 20;

/** The server refuses a query without a letter or digit in it ("***", "-"): it could find nothing. */
const hasWord = (query: string) => /[\p{L}\p{N}]/u.test(query);

interface SearchResult {
  message: Message;
  snippet: string;
}

function useDebounced<T>(value: T, ms: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

/** Results in the order found (newest first), grouped by room in order of each room's first result. */
function groupByRoom(results: readonly SearchResult[]): Array<{ room: string; results: SearchResult[] }> {
  const groups = new Map<string, SearchResult[]>();
  for (const result of results) {
    const group = groups.get(result.message.room);
    if (group) group.push(result);
    else groups.set(result.message.room, [result]);
  }
  return [...groups].map(([room, list]) => ({ room, results: list }));
}

interface SearchDialogProps {
  /** The room open now: offered as a filter. */
  room: string | null;
  onClose: () => void;
}

/**
 * Message search (messages.search) in a modal dialog: results grouped by room, newest first; a
 * result is a link to the room at that message (`?at=seq`, see message-link.ts). Down from the box
 * moves into the results, Up and Down move along them, Enter in the box opens the first.
 */
export default function SearchDialog({ room, onClose }: SearchDialogProps) {
  const client = useTRPCClient();
  const navigate = useNavigate();
  const ref = useRef<HTMLDialogElement>(null);
  const resultsRef = useRef<HTMLDivElement>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const opener = useRef<Element | null>(null);
  const [text, setText] = useState('');
  const [onlyHere, setOnlyHere] = useState(false);
  const titleId = useId();
  const inputId = useId();
  const query = useDebounced(text.trim(), DEBOUNCE_MS);
  const filter = onlyHere && room ? room : undefined;
  const searchable = hasWord(query);

  const search = useInfiniteQuery({
    queryKey: ['search', query, filter ?? null],
    queryFn: ({ pageParam }) =>
      client.messages.search.query({ q: query, room: filter, limit: PAGE_SIZE, before: pageParam ?? undefined }),
    initialPageParam: null as number | null,
    getNextPageParam: (page) => (page.hasMore ? (page.results.at(-1)?.message.id ?? null) : null),
    enabled: searchable,
    placeholderData: keepPreviousData,
    staleTime: 30_000,
  });
  const results = useMemo(() => search.data?.pages.flatMap((page) => page.results) ?? [], [search.data]);
  const groups = groupByRoom(searchable ? results : []);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    opener.current = document.activeElement;
    if (!dialog.open) dialog.showModal();
    // showModal focuses the first control (Close): the box is what the dialog is opened for.
    inputRef.current?.focus();
    return () => {
      if (dialog.open) dialog.close();
    };
  }, []);

  const close = (restoreFocus: boolean) => {
    ref.current?.close();
    const previous = opener.current;
    if (restoreFocus && previous instanceof HTMLElement && previous.isConnected) previous.focus();
    onClose();
  };

  const resultLinks = () => [...(resultsRef.current?.querySelectorAll<HTMLAnchorElement>('a.search-result') ?? [])];
  const onResultsKeyDown = (event: KeyboardEvent<HTMLElement>) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const links = resultLinks();
    const at = links.indexOf(document.activeElement as HTMLAnchorElement);
    const next = event.key === 'ArrowDown' ? at + 1 : at - 1;
    event.preventDefault();
    if (next < 0) inputRef.current?.focus();
    else links[Math.min(next, links.length - 1)]?.focus();
  };

  let status: string;
  if (!searchable) status = text.trim() === '' ? 'Type words to search for.' : 'Type letters or digits to search for.';
  else if (search.isError) status = `Search failed: ${describeApiError(search.error).message}`;
  else if (search.isPending || (search.isPlaceholderData && search.isFetching)) status = 'Searching…';
  else if (results.length === 0) status = 'No messages found.';
  else status = `${results.length}${search.hasNextPage ? '+' : ''} message${results.length === 1 ? '' : 's'} found.`;

  return (
    <dialog
      ref={ref}
      className="dialog search-dialog"
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        close(true);
      }}
    >
      <div className="search-dialog__head">
        <h2 id={titleId} className="dialog__title">
          Search messages
        </h2>
        <button type="button" className="button button--small button--quiet" onClick={() => close(true)}>
          Close
        </button>
      </div>
      <form
        className="search-dialog__form"
        onSubmit={(event) => {
          event.preventDefault();
          const first = results[0];
          if (!first) return;
          close(false);
          void navigate(messageHref(first.message.room, first.message.seq));
        }}
      >
        <label htmlFor={inputId} className="visually-hidden">
          Search messages
        </label>
        <input
          id={inputId}
          className="text-input search-dialog__input"
          type="search"
          ref={inputRef}
          autoComplete="off"
          placeholder="Search messages"
          maxLength={200}
          value={text}
          onChange={(event) => setText(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'ArrowDown') {
              event.preventDefault();
              resultLinks()[0]?.focus();
            }
          }}
          aria-describedby={`${inputId}-status`}
        />
        {room ? (
          <label className="search-dialog__filter">
            <input type="checkbox" checked={onlyHere} onChange={(event) => setOnlyHere(event.target.checked)} /> Only in
            #{room}
          </label>
        ) : null}
      </form>
      <p id={`${inputId}-status`} className="search-dialog__status muted" aria-live="polite">
        {status}
      </p>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: arrow keys move between the result links inside */}
      <div ref={resultsRef} className="search-dialog__results" onKeyDown={onResultsKeyDown}>
        {groups.map((group) => (
          <section key={group.room} className="search-group" aria-labelledby={`${inputId}-room-${group.room}`}>
            <h3 id={`${inputId}-room-${group.room}`} className="search-group__room">
              #{group.room}
            </h3>
            <ul className="search-group__results">
              {group.results.map(({ message, snippet }) => (
                <li key={message.id}>
                  <Link
                    className="search-result"
                    to={messageHref(message.room, message.seq)}
                    onClick={() => close(false)}
                  >
                    <span className="search-result__meta">
                      <span className="search-result__author">{message.author}</span>{' '}
                      <time dateTime={message.createdAt} title={fullTime(new Date(message.createdAt))}>
                        {shortTime(new Date(message.createdAt))}
                      </time>
                    </span>
                    <span className="search-result__snippet">
                      <SearchSnippet snippet={snippet} />
                    </span>
                  </Link>
                </li>
              ))}
            </ul>
          </section>
        ))}
        {search.hasNextPage && searchable ? (
          <button
            type="button"
            className="button button--small button--quiet search-dialog__more"
            disabled={search.isFetchingNextPage}
            onClick={() => void search.fetchNextPage()}
          >
            {search.isFetchingNextPage ? 'Loading more…' : 'More results'}
          </button>
        ) : null}
      </div>
    </dialog>
  );
}
