import type { inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '../../../server/routers/app-router.ts';

export type { AppRouter };
export type RouterOutputs = inferRouterOutputs<AppRouter>;

export type Message = RouterOutputs['messages']['list']['messages'][number];
export type Member = RouterOutputs['rooms']['members']['users'][number];
export type RoomSummary = RouterOutputs['rooms']['list']['rooms'][number];
export type UserCount = RouterOutputs['stats']['users']['users'][number];
export type MyRoom = RouterOutputs['rooms']['mine']['rooms'][number];
