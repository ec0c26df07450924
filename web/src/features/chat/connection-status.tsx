import { useLiveConnectionState } from '../../lib/use-connection-state.ts';

interface ConnectionStatusProps {
  liveError: string | null;
  onRestart: () => void;
}

/** Tells, politely, whether the room is live; the only role="status" on the page. */
export function ConnectionStatus({ liveError, onRestart }: ConnectionStatusProps) {
  const state = useLiveConnectionState();
  const label = liveError
    ? 'Live updates stopped'
    : state === 'open'
      ? 'Live'
      : state === 'reconnecting'
        ? 'Reconnecting…'
        : 'Connecting…';
  const tone = liveError || state === 'reconnecting' ? 'warn' : state === 'open' ? 'ok' : 'neutral';
  return (
    <div className="connection">
      <p role="status" className={`connection__status connection__status--${tone}`}>
        <span className="connection__dot" aria-hidden="true" />
        <span className="connection__label">{label}</span>
      </p>
      {liveError ? (
        <button type="button" className="button button--small" onClick={onRestart} title={liveError}>
          Reconnect
        </button>
      ) : null}
    </div>
  );
}
