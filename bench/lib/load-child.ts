/**
 * The child side of runInChild: waits for its config, runs `body`, sends the result back and
 * exits. Any failure is reported to the parent instead of hanging it.
 */
export function runAsChild<C, R>(body: (config: C) => Promise<R>): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error('run this through bench/run.ts: it needs an IPC channel to its parent');
  process.once('message', (message: { type: 'config'; config: C }) => {
    body(message.config).then(
      (result) => send({ type: 'result', result }, () => process.exit(0)),
      (error: unknown) =>
        send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }, () =>
          process.exit(1),
        ),
    );
  });
  // The parent going away (Ctrl-C, crash) must not leave this process generating load.
  process.once('disconnect', () => process.exit(1));
}
