import { z } from 'zod';
import { streamMyRooms } from '../live/my-rooms-events.ts';
import { claimSubscriptionSlot } from '../live/room-events.ts';
import { readSubscriptionTag } from '../live/trpc-wire.ts';
import { authedProcedure, router } from '../trpc.ts';

/** The signed-in user's own live view (issue 13). */
export const meRouter = router({
  /**
   * `{type: 'rooms', rooms}` (the list of rooms.mine) on subscribe, then whenever a count or
   * marker in it changes: a message in one of the rooms, an edit or delete, a read marker moved by
   * any tab or device, a join or a leave. Bursts are coalesced (MY_ROOMS_COALESCE_MS); an
   * unchanged list is not sent again. Takes one of the socket's subscription slots (at most one
   * me.events per socket), or over SSE one of the user's and the IP's live connections.
   */
  events: authedProcedure
    .input(
      z
        .object({
          /**
           * Set by tRPC's clients on resubscribe and ignored: the list is state, not history, and a
           * resubscribe starts with the current one.
           */
          lastEventId: z.string().max(64).nullish(),
        })
        .optional(),
    )
    .use(async ({ getRawInput, next }) => next({ ctx: { subscriptionTag: readSubscriptionTag(await getRawInput()) } }))
    .subscription(({ ctx, signal }) => {
      const slot = claimSubscriptionSlot(ctx, 'your rooms (me.events)', signal);
      return streamMyRooms(ctx, slot);
    }),
});
