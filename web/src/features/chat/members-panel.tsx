import type { MemberRow } from './use-room-stats.ts';

interface MembersPanelProps {
  me: string;
  rows: readonly MemberRow[];
  roomTotal: number;
  /** Only the first page of a big room's members is shown. */
  moreMembers: boolean;
  isLoading: boolean;
  isError: boolean;
}

/** Who is in the room (online first) and how much each of them has written, here and overall. */
export function MembersPanel({ me, rows, roomTotal, moreMembers, isLoading, isError }: MembersPanelProps) {
  const onlineCount = rows.filter((row) => row.online).length;
  const byActivity = [...rows].sort((a, b) => b.here - a.here || a.username.localeCompare(b.username));
  return (
    <>
      <section className="panel" aria-labelledby="members-heading">
        <h2 id="members-heading">Members</h2>
        {isLoading ? (
          <p className="muted">Loading members…</p>
        ) : isError ? (
          <p className="muted">Members could not be loaded.</p>
        ) : (
          <>
            <p className="panel__summary muted">
              {onlineCount} of {rows.length} online
              {moreMembers ? ` · showing the first ${rows.length.toLocaleString()} members` : null}
            </p>
            <ul className="members" aria-labelledby="members-heading">
              {rows.map((row) => (
                <li key={row.username} className={row.online ? 'member member--online' : 'member'}>
                  <span className="member__dot" aria-hidden="true" />
                  <span className="member__name">
                    {row.username}
                    {row.username === me ? <span className="muted"> (you)</span> : null}
                  </span>
                  <span className="member__state">{row.online ? 'online' : 'offline'}</span>
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
      <section className="panel" aria-labelledby="stats-heading">
        <h2 id="stats-heading">Room statistics</h2>
        <p className="stat-total">
          <strong>{roomTotal.toLocaleString()}</strong> {roomTotal === 1 ? 'message' : 'messages'} in this room
          {moreMembers ? ' by the members shown' : null}
        </p>
        {byActivity.length > 0 ? (
          <table className="stats-table">
            <caption className="visually-hidden">Messages sent per member, in this room and across all rooms</caption>
            <thead>
              <tr>
                <th scope="col">Member</th>
                <th scope="col">Here</th>
                <th scope="col">All rooms</th>
              </tr>
            </thead>
            <tbody>
              {byActivity.map((row) => (
                <tr key={row.username}>
                  <th scope="row">{row.username}</th>
                  <td>{row.here.toLocaleString()}</td>
                  <td>
                    {row.overall === null ? (
                      <span title="Not among the most active users on this server">—</span>
                    ) : (
                      row.overall.toLocaleString()
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
    </>
  );
}
