import { router } from '../trpc.ts';
import { authRouter } from './auth.ts';
import { meRouter } from './me.ts';
import { messagesRouter } from './messages.ts';
import { roomsRouter } from './rooms.ts';
import { statsRouter } from './stats.ts';

export const appRouter = router({
  auth: authRouter,
  rooms: roomsRouter,
  messages: messagesRouter,
  stats: statsRouter,
  me: meRouter,
});

export type AppRouter = typeof appRouter;
