import type { Duplex } from 'node:stream';
import { WebSocket } from 'ws';

/**
 * A whole WebSocket text frame (RFC 6455 §5.2): FIN, opcode 1, the payload length, and no mask, as
 * a server sends it. Because a server's frames are unmasked, the same bytes can go to every socket.
 */
export function textFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81;
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(frame, headerLength);
  return frame;
}

/**
 * The socket's TCP stream when frames may be written to it directly (writeTextFrame), else null.
 * Decided once per socket: the extensions are fixed by the handshake, and ws's `extensions` getter
 * builds a string on every read, which the broadcaster would otherwise pay per socket per message.
 *
 * Writing there bypasses ws's Sender, which is only safe while the Sender writes synchronously: with
 * no extension negotiated (the server never enables permessage-deflate, and never sends Blobs) it
 * queues nothing, so a frame written directly cannot overtake or split one of its own. When ws's
 * internal `_socket` is not there (a ws upgrade changed it), frames go through `socket.send`
 * (tests/ws-frame.test.ts reads these frames through a real client).
 */
export function directStream(socket: WebSocket): Duplex | null {
  if (socket.extensions !== '') return null;
  return (socket as unknown as { _socket?: Duplex | null })._socket ?? null;
}

/**
 * Writes a frame built by textFrame in one write to `stream` (directStream of the socket). `ws`
 * itself would build a header for each socket and write header and payload as two buffers (a
 * writev): for a broadcast to a thousand sockets that was a fifth of the delivery loop's JavaScript.
 */
export function writeTextFrame(socket: WebSocket, stream: Duplex | null, frame: Buffer, payload: Buffer): void {
  if (stream !== null && socket.readyState === WebSocket.OPEN && stream.writable) {
    stream.write(frame);
    return;
  }
  socket.send(payload, { binary: false });
}
