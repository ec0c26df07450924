import { ROOM_NAME_RULE } from '../../../../shared/rules.ts';
import type { ApiErrorInfo } from '../../lib/errors.ts';

export interface JoinErrors {
  username?: string;
  password?: string;
  room?: string;
  /** Anything that does not belong to one field (server unreachable, rate limits on sign-up). */
  form?: string;
}

const LABELS: Record<string, keyof JoinErrors> = { username: 'username', password: 'password', room: 'room' };
const NAMES = { username: 'Username', password: 'Password', room: 'Room' } as const;

function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/**
 * Puts what the server said next to the field it is about. Validation messages already state the
 * rule ("must be 1–64 characters: a–z, …"), so they are shown as they come.
 */
export function joinErrorsFrom(error: ApiErrorInfo, step: 'sign-in' | 'sign-up' | 'join'): JoinErrors {
  const errors: JoinErrors = {};
  for (const [field, messages] of Object.entries(error.fieldErrors)) {
    const key = LABELS[field];
    const first = messages[0];
    if (key && key !== 'form' && first) errors[key] = sentence(`${NAMES[key]} ${first}`);
  }
  if (Object.keys(errors).length > 0) return errors;

  if (error.code === null) return { form: error.message };
  if (step === 'join') {
    if (error.code === 'BAD_REQUEST') return { room: `${sentence(error.message)} Use ${ROOM_NAME_RULE}.` };
    return { form: sentence(error.message) };
  }
  if (step === 'sign-up' && error.code === 'CONFLICT') return { username: sentence(error.message) };
  if (step === 'sign-in' && (error.code === 'UNAUTHORIZED' || error.code === 'TOO_MANY_REQUESTS')) {
    return { password: sentence(error.message) };
  }
  return { form: sentence(error.message) };
}
