/**
 * tRPC's WebSocket encoder, with one change: the payload of a tracked event is serialized once per
 * event object, not once per subscriber. A message published to a room reaches every subscriber as
 * the same object (see streamRoomEvents), so a room of N subscribers pays one JSON.stringify of the
 * message plus N small envelopes, instead of N full serializations.
 */
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
    return JSON.parse(data);
  },
};
