interface MessageActionBarProps {
  own: boolean;
  pickerOpen: boolean;
  onReact: () => void;
  onReply: () => void;
  onEdit: () => void;
  onDelete: () => void;
}

/**
 * What can be done with a message. Always in the page, so Tab reaches it; shown on hover, when
 * focus is inside the message, and after a long press on a touch screen (see styles.css).
 */
export function MessageActionBar({ own, pickerOpen, onReact, onReply, onEdit, onDelete }: MessageActionBarProps) {
  return (
    <div className="message__actions" role="group" aria-label="Message actions">
      <button type="button" className="message__action" aria-expanded={pickerOpen} onClick={onReact}>
        React
      </button>
      <button type="button" className="message__action" onClick={onReply}>
        Reply
      </button>
      {own ? (
        <>
          <button type="button" className="message__action" onClick={onEdit}>
            Edit
          </button>
          <button type="button" className="message__action message__action--danger" onClick={onDelete}>
            Delete
          </button>
        </>
      ) : null}
    </div>
  );
}
