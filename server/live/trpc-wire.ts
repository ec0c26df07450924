import type { JSONRPC2, TRPCResponseMessage } from '@trpc/server/rpc';

/**
 * Everything atlas-chat knows about tRPC's WebSocket wire format, in one module (pinned at
 * `@trpc/server` 11.22.1; `tests/wire-format.test.ts` compares our frames byte for byte with the
 * ones tRPC itself writes, so an upgrade that changes the format fails the suite, not production):
 *
 * - `wireEncoder`, tRPC's `experimental_encoder`:
 *   - encode: the payload of a tracked event is serialized once per event object, not once per
 *     subscriber (one bus event reaches every subscriber as the same object);
 *   - decode: each subscription request's input is tagged with the request id the client chose,
 *     so the procedure can learn it (tRPC does not pass it) and the room broadcaster can address
 *     frames to exactly this subscription; a call that must not travel in a batch (a JSON array
 *     frame) has its input replaced by a marker, so it is refused, never run.
 * - `trackedDataFrame`: the frame tRPC writes for `yield tracked(id, data)`, for the broadcaster,
 *   which writes live messages to sockets without going through tRPC.
 *
 * Tags are enumerable symbol properties: they survive tRPC's `{ ...input, lastEventId }` copy and
 * are invisible to JSON and to zod's parsed output.
 */

/** How a client addressed one subscription: tRPC echoes both in every frame of it. */
export interface SubscriptionTag {
  id: number | string;
  jsonrpc: '2.0' | undefined;
}

/** `result.data` of a tracked event: tRPC repeats the tracked id inside and next to it. */
export interface TrackedData<T = unknown> {
  id: string;
  data: T;
}

const SUBSCRIPTION_TAG = Symbol('atlas-chat subscription request');
const REFUSED_IN_BATCH = Symbol('atlas-chat call refused in a batch');

/** The tag decode() put on a subscription's raw input, if it arrived over our WebSocket. */
export function readSubscriptionTag(rawInput: unknown): SubscriptionTag | undefined {
  if (typeof rawInput !== 'object' || rawInput === null) return undefined;
  return (rawInput as { [SUBSCRIPTION_TAG]?: SubscriptionTag })[SUBSCRIPTION_TAG];
}

/** The path of a call that arrived inside a batch although `refuseInBatch` forbids it, else undefined. */
export function readRefusedBatchCall(rawInput: unknown): string | undefined {
  if (typeof rawInput !== 'object' || rawInput === null) return undefined;
  return (rawInput as { [REFUSED_IN_BATCH]?: string })[REFUSED_IN_BATCH];
}

/** The ids of the `subscription.stop` messages in a frame (one message or a batch); [] if none or not JSON. */
export function readStopIds(frame: string): Array<number | string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(frame);
  } catch {
    return [];
  }
  const ids: Array<number | string> = [];
  for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
    const { id, method } = (isObject(message) ? message : {}) as IncomingMessage;
    if (method === 'subscription.stop' && (typeof id === 'number' || typeof id === 'string')) ids.push(id);
  }
  return ids;
}

/** A client message as it arrives: not trusted, so every field is checked before use. */
type IncomingMessage = {
  id?: unknown;
  jsonrpc?: unknown;
  method?: unknown;
  params?: { input?: unknown; path?: unknown };
};

function isObject(value: unknown): value is Record<string | symbol, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function tagSubscription(message: IncomingMessage): void {
  const { id, method, params, jsonrpc } = message;
  if (method !== 'subscription' || (typeof id !== 'number' && typeof id !== 'string')) return;
  const input = params?.input;
  if (!isObject(input)) return;
  input[SUBSCRIPTION_TAG] = { id, jsonrpc: jsonrpc === '2.0' ? jsonrpc : undefined } satisfies SubscriptionTag;
}

/**
 * The ids and the tracked id of a tracked data frame (`TRPCResponseMessage` with `result.id`), with
 * the key order tRPC's ws adapter uses: `{ id, jsonrpc, result: { type, data, id } }`.
 */
export function trackedResponse<T>(
  tag: SubscriptionTag,
  trackedId: string,
  data: T,
): TRPCResponseMessage<TrackedData<T>> & { id: JSONRPC2.RequestId } {
  return { id: tag.id, jsonrpc: tag.jsonrpc, result: { type: 'data', data: { id: trackedId, data }, id: trackedId } };
}

const SENTINEL = '\u0000atlas-chat-payload\u0000';
const QUOTED_SENTINEL = JSON.stringify(SENTINEL);
const serialized = new WeakMap<object, string>();

/** JSON of a payload object, computed once per object however many subscribers receive it. */
function payloadJson(payload: object): string {
  let json = serialized.get(payload);
  if (json === undefined) {
    json = JSON.stringify(payload);
    serialized.set(payload, json);
  }
  return json;
}

function isTrackedResponse(message: unknown): message is TRPCResponseMessage<TrackedData<object>> & {
  result: { data: TrackedData<object> };
} {
  const result = (message as { result?: { data?: { id?: unknown; data?: unknown } } } | null)?.result;
  return typeof result?.data?.id === 'string' && typeof result.data.data === 'object' && result.data.data !== null;
}

/** What JSON.stringify(message) gives, with a tracked payload serialized once per object. */
function encodeMessage(message: unknown): string {
  if (!isTrackedResponse(message)) return JSON.stringify(message);
  const json = payloadJson(message.result.data.data);
  const shell = JSON.stringify({
    ...message,
    result: { ...message.result, data: { ...message.result.data, data: SENTINEL } },
  });
  return shell.replace(QUOTED_SENTINEL, () => json);
}

/**
 * The frame tRPC writes for `yield tracked(trackedId, data)` on the subscription `tag`. `data`
 * is serialized once per object, shared with tRPC's own path through `wireEncoder`.
 */
export function trackedDataFrame(tag: SubscriptionTag, trackedId: string, data: object): string {
  return encodeMessage(trackedResponse(tag, trackedId, data));
}

/** A cache key per distinct frame shell: most clients number requests from 1, so sockets share frames. */
export function subscriptionKey(tag: SubscriptionTag): string {
  return `${typeof tag.id}:${tag.id}:${tag.jsonrpc ?? ''}`;
}

export interface WireEncoderOptions {
  /** Calls (by path) that are refused when they arrive inside a batch, e.g. `auth.*`. */
  refuseInBatch: (path: string) => boolean;
}

/** tRPC's `experimental_encoder` for our WebSocket: JSON in text frames, plus the tags above. */
export function createWireEncoder(options: WireEncoderOptions) {
  const markIfRefused = (message: IncomingMessage): void => {
    const path = message.params?.path;
    if (!isObject(message.params) || typeof path !== 'string' || !options.refuseInBatch(path)) return;
    // The real input is dropped: even if no guard read the marker, it would fail validation.
    message.params.input = { [REFUSED_IN_BATCH]: path };
  };
  return {
    encode: encodeMessage,
    decode(data: unknown): unknown {
      if (typeof data !== 'string') throw new Error('atlas-chat speaks JSON in text frames');
      const parsed: unknown = JSON.parse(data);
      if (Array.isArray(parsed)) {
        for (const message of parsed) {
          if (!isObject(message)) continue;
          markIfRefused(message);
          tagSubscription(message);
        }
      } else if (isObject(parsed)) {
        tagSubscription(parsed);
      }
      return parsed;
    },
  };
}
