import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import {
  isValidRoomName,
  isValidUsername,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  normalizeRoomName,
  ROOM_NAME_RULE,
  USERNAME_RULE,
} from '../../../../shared/rules.ts';
import { TextField } from '../../components/text-field.tsx';
import { describeApiError } from '../../lib/errors.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { type JoinErrors, joinErrorsFrom } from './join-errors.ts';
import { RoomDirectory } from './room-directory.tsx';
import { type SessionUser, useSession, useSetSession } from './session.ts';
import { SignOutButton } from './sign-out-button.tsx';

type Mode = 'sign-in' | 'create-account';
type Field = 'username' | 'password' | 'room';
const FIELD_ORDER: readonly Field[] = ['username', 'password', 'room'];

function validate(mode: Mode, signedIn: boolean, username: string, password: string, room: string): JoinErrors {
  const errors: JoinErrors = {};
  if (!signedIn) {
    if (!isValidUsername(username)) errors.username = `Username must be ${USERNAME_RULE}.`;
    if (password.length === 0) errors.password = 'Enter your password.';
    else if (mode === 'create-account' && password.length < MIN_PASSWORD_LENGTH) {
      errors.password = `Password must be at least ${MIN_PASSWORD_LENGTH} characters.`;
    } else if (password.length > MAX_PASSWORD_LENGTH) {
      errors.password = `Password must be at most ${MAX_PASSWORD_LENGTH} characters.`;
    }
  }
  if (room.trim() === '') errors.room = `Enter a room name: ${ROOM_NAME_RULE}.`;
  else if (!isValidRoomName(room)) errors.room = `"${room.trim()}" is not a valid room name. Use ${ROOM_NAME_RULE}.`;
  return errors;
}

/** `/`: sign in or create an account, and pick a room. Signed-in users only pick the room. */
export function JoinPage() {
  const session = useSession();
  return (
    <main className="join-page">
      <div className="join-page__intro">
        <h1 className="wordmark">atlas-chat</h1>
        <p className="muted">Pick a room and start talking. Rooms are created when someone first joins them.</p>
      </div>
      {session.isPending ? (
        <p className="card muted">Loading…</p>
      ) : session.isError ? (
        <div className="card" role="alert">
          <p>Could not reach the server.</p>
          <button type="button" className="button" onClick={() => void session.refetch()}>
            Try again
          </button>
        </div>
      ) : (
        <>
          <JoinForm user={session.data} />
          <RoomDirectory signedIn={session.data !== null} />
        </>
      )}
    </main>
  );
}

function JoinForm({ user }: { user: SessionUser | null }) {
  const trpc = useTRPC();
  const navigate = useNavigate();
  const setSession = useSetSession();
  const [searchParams] = useSearchParams();
  const [mode, setMode] = useState<Mode>('sign-in');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [room, setRoom] = useState(() => searchParams.get('room') ?? '');
  const [errors, setErrors] = useState<JoinErrors>({});
  const focusables = useRef<Record<Field | 'form', HTMLElement | null>>({
    username: null,
    password: null,
    room: null,
    form: null,
  });
  // A new object per failed submit, so the same field is focused again after a second failure.
  const [focusTarget, setFocusTarget] = useState<{ field: Field | 'form' } | null>(null);

  const signIn = useMutation(trpc.auth.signIn.mutationOptions());
  const signUp = useMutation(trpc.auth.signUp.mutationOptions());
  const join = useMutation(trpc.rooms.join.mutationOptions());
  const busy = signIn.isPending || signUp.isPending || join.isPending;

  // After a failed submit, move focus to the first field in error so its message is read out.
  useEffect(() => {
    if (focusTarget) focusables.current[focusTarget.field]?.focus();
  }, [focusTarget]);

  const showErrors = (next: JoinErrors) => {
    setErrors(next);
    const field = FIELD_ORDER.find((name) => next[name]);
    setFocusTarget({ field: field ?? 'form' });
  };

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    const found = validate(mode, user !== null, username, password, room);
    if (Object.keys(found).length > 0) return showErrors(found);
    setErrors({});

    if (user === null) {
      try {
        const credentials = { username: username.trim(), password };
        const result =
          mode === 'sign-in' ? await signIn.mutateAsync(credentials) : await signUp.mutateAsync(credentials);
        setSession(result.user);
      } catch (error) {
        return showErrors(joinErrorsFrom(describeApiError(error), mode === 'sign-in' ? 'sign-in' : 'sign-up'));
      }
    }
    try {
      const joined = await join.mutateAsync({ room: normalizeRoomName(room) });
      navigate(`/rooms/${encodeURIComponent(joined.room.name)}`);
    } catch (error) {
      showErrors(joinErrorsFrom(describeApiError(error), 'join'));
    }
  };

  const clearError = (field: Field) => {
    if (errors[field]) setErrors(({ [field]: _removed, ...rest }) => rest);
  };

  return (
    <form className="card join-form" onSubmit={(event) => void onSubmit(event)} noValidate>
      {user === null ? (
        <>
          <fieldset className="segmented">
            <legend className="visually-hidden">Account</legend>
            {(['sign-in', 'create-account'] as const).map((value) => (
              <label key={value} className="segmented__option">
                <input
                  type="radio"
                  name="mode"
                  value={value}
                  checked={mode === value}
                  onChange={() => {
                    setMode(value);
                    setErrors({});
                  }}
                />
                <span>{value === 'sign-in' ? 'Sign in' : 'Create account'}</span>
              </label>
            ))}
          </fieldset>
          <TextField
            id="join-username"
            label="Username"
            ref={(element) => {
              focusables.current.username = element;
            }}
            value={username}
            onChange={(value) => {
              setUsername(value);
              clearError('username');
            }}
            error={errors.username}
            hint={mode === 'create-account' ? `${USERNAME_RULE}.` : undefined}
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
          />
          <TextField
            id="join-password"
            label="Password"
            type="password"
            ref={(element) => {
              focusables.current.password = element;
            }}
            value={password}
            onChange={(value) => {
              setPassword(value);
              clearError('password');
            }}
            error={errors.password}
            hint={mode === 'create-account' ? `At least ${MIN_PASSWORD_LENGTH} characters.` : undefined}
            autoComplete={mode === 'sign-in' ? 'current-password' : 'new-password'}
            required
          />
        </>
      ) : (
        <div className="signed-in">
          <p>
            Signed in as <strong>{user.username}</strong>
          </p>
          <SignOutButton />
        </div>
      )}
      <TextField
        id="join-room"
        label="Room"
        ref={(element) => {
          focusables.current.room = element;
        }}
        value={room}
        onChange={(value) => {
          setRoom(value);
          clearError('room');
        }}
        error={errors.room}
        hint={`${ROOM_NAME_RULE}, e.g. "general".`}
        autoComplete="off"
        autoCapitalize="none"
        spellCheck={false}
        required
      />
      {errors.form ? (
        <p
          className="form-error"
          role="alert"
          tabIndex={-1}
          ref={(element) => {
            focusables.current.form = element;
          }}
        >
          {errors.form}
        </p>
      ) : null}
      <button type="submit" className="button button--primary button--wide" aria-busy={busy || undefined}>
        Join room
      </button>
    </form>
  );
}
