import { useSyncExternalStore } from 'react';

/** Whether the user can be reading this tab now: shown, and the window focused. */
export function tabIsRead(): boolean {
  return document.visibilityState === 'visible' && document.hasFocus();
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('focus', onChange);
  window.addEventListener('blur', onChange);
  document.addEventListener('visibilitychange', onChange);
  return () => {
    window.removeEventListener('focus', onChange);
    window.removeEventListener('blur', onChange);
    document.removeEventListener('visibilitychange', onChange);
  };
}

/** `tabIsRead()`, re-rendering when it changes. */
export function useTabRead(): boolean {
  return useSyncExternalStore(subscribe, tabIsRead);
}
