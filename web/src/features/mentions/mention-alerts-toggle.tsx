import { useState } from 'react';
import { notificationsSupported, setMentionAlerts, useMentionAlertsOn } from './mention-alerts.ts';

function BellIcon() {
  return (
    <svg className="tool-icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false">
      <path
        d="M12 3a6 6 0 0 0-6 6v3.6L4.3 15.5A1 1 0 0 0 5.2 17h13.6a1 1 0 0 0 .9-1.5L18 12.6V9a6 6 0 0 0-6-6Zm0 19a3 3 0 0 0 3-3H9a3 3 0 0 0 3 3Z"
        fill="currentColor"
      />
    </svg>
  );
}

/**
 * "Mention alerts": desktop notifications for mentions while the tab is hidden. Pressing it asks
 * the browser's permission the first time (only ever from this click); pressing it again turns
 * them off. Absent where the browser has no Notification API.
 */
export function MentionAlertsToggle() {
  const on = useMentionAlertsOn();
  const [problem, setProblem] = useState<string | null>(null);
  if (!notificationsSupported()) return null;

  const toggle = async () => {
    setProblem(null);
    if (on) {
      setMentionAlerts(false);
      return;
    }
    const permission =
      Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission;
    if (permission === 'granted') setMentionAlerts(true);
    else setProblem('Notifications are blocked for this site in the browser’s settings.');
  };

  return (
    <>
      <button
        type="button"
        className="button button--quiet tool-button"
        aria-pressed={on}
        title={
          on ? 'Notifying you of mentions while this tab is hidden' : 'Notify me of mentions while this tab is hidden'
        }
        onClick={() => void toggle()}
      >
        <BellIcon />
        <span className="tool-button__label">Mention alerts</span>
      </button>
      {problem ? (
        <span className="tool-problem" role="alert">
          {problem}
        </span>
      ) : null}
    </>
  );
}
