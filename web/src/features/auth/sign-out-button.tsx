import { useMutation } from '@tanstack/react-query';
import { describeApiError } from '../../lib/errors.ts';
import { useTRPC } from '../../lib/trpc.ts';
import { useSetSession } from './session.ts';

/** Ends the session on the server, then forgets it here; pages react to the session becoming null. */
export function SignOutButton({ className }: { className?: string }) {
  const trpc = useTRPC();
  const setSession = useSetSession();
  const signOut = useMutation(trpc.auth.signOut.mutationOptions({ onSuccess: () => setSession(null) }));
  const failure = signOut.error ? describeApiError(signOut.error) : null;
  return (
    <>
      <button
        type="button"
        className={className ?? 'button button--quiet'}
        onClick={() => signOut.mutate()}
        disabled={signOut.isPending}
      >
        Sign out
      </button>
      {failure && failure.code !== 'UNAUTHORIZED' ? (
        <span className="inline-error" role="alert">
          Could not sign out: {failure.message}
        </span>
      ) : null}
    </>
  );
}
