import { MentionAlertsToggle } from '../mentions/mention-alerts-toggle.tsx';
import { SearchLauncher } from './search-launcher.tsx';
import './header-tools.css';

/** Search and mention alerts, for the room page's header: one place to mount them. */
export function HeaderTools({ room }: { room: string | null }) {
  return (
    <div className="header-tools">
      <SearchLauncher room={room} />
      <MentionAlertsToggle />
    </div>
  );
}
