/**
 * tRPC's WebSocket encoder, with two additions:
 * - encode: the payload of a tracked event is serialized once per event object, not once per
 *   subscriber (presence and typing events reach every subscriber as the same object);
 * - decode: each subscription request's input is tagged with the request id the client chose, so
 *   the procedure can learn it (tRPC does not pass it) and the room broadcaster can address frames
 *   to exactly this subscription. The tag is an enumerable symbol property: it survives tRPC's
 *   `{ ...input, lastEventId }` copy and is invisible to JSON and to zod's parsed output.
 */
const SUBSCRIPTION_TAG = Symbol('atlas-chat subscription request');

export interface SubscriptionTag {
  id: number | string;
  jsonrpc: string | undefined;
}

/** The tag decode() put on a subscription's raw input, if it arrived over our WebSocket. */
export function readSubscriptionTag(rawInput: unknown): SubscriptionTag | undefined {
  if (typeof rawInput !== 'object' || rawInput === null) return undefined;
  return (rawInput as { [SUBSCRIPTION_TAG]?: SubscriptionTag })[SUBSCRIPTION_TAG];
}

function tagSubscription(message: unknown): void {
  if (typeof message !== 'object' || message === null) return;
  const { id, method, params, jsonrpc } = message as {
    id?: unknown;
    method?: unknown;
    params?: { input?: unknown };
    jsonrpc?: unknown;
  };
  if (method !== 'subscription' || (typeof id !== 'number' && typeof id !== 'string')) return;
  const input = params?.input;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return;
  (input as { [SUBSCRIPTION_TAG]?: SubscriptionTag })[SUBSCRIPTION_TAG] = {
    id,
    jsonrpc: typeof jsonrpc === 'string' ? jsonrpc : undefined,
  };
}
const SENTINEL = '\u0000atlas-chat-payload\u0000';
const QUOTED_SENTINEL = JSON.stringify(SENTINEL);

const serialized = new WeakMap<object, string>();

type TrackedResponse = { result: { data: { id: string; data: object } } };

function isTrackedResponse(message: unknown): message is TrackedResponse {
  const result = (message as { result?: { data?: { id?: unknown; data?: unknown } } } | null)?.result;
  return typeof result?.data?.id === 'string' && typeof result.data.data === 'object' && result.data.data !== null;
}

export const sharedPayloadEncoder = {
  encode(message: unknown): string {
    if (!isTrackedResponse(message)) return JSON.stringify(message);
    const payload = message.result.data.data;
    let json = serialized.get(payload);
    if (json === undefined) {
      json = JSON.stringify(payload);
      serialized.set(payload, json);
    }
    const shell = JSON.stringify({
      ...message,
      result: { ...message.result, data: { ...message.result.data, data: SENTINEL } },
    });
    const payloadJson = json;
    return shell.replace(QUOTED_SENTINEL, () => payloadJson);
  },
  decode(data: unknown): unknown {
    if (typeof data !== 'string') throw new Error('atlas-chat speaks JSON in text frames');
    const parsed: unknown = JSON.parse(data);
    if (Array.isArray(parsed)) for (const message of parsed) tagSubscription(message);
    else tagSubscription(parsed);
    return parsed;
  },
};
