import type { Socket } from 'node:net';
import type { ConnectionError, FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { errorBody, sendError } from './errors.ts';

/**
 * Requests Node's HTTP parser refuses before Fastify sees them: a raw byte of 0x80 or more in the
 * path, a broken request line, oversized headers, a request that takes too long to arrive. Fastify's
 * default answers these with a body of its own shape; this one answers in ours. The request could
 * not be parsed, so its method is unknown for certain: a body is sent even for what looks like a
 * HEAD, as Fastify does, and the connection is closed right after, so no client is misled into
 * reading it as the start of the next response.
 */
function answerClientError(error: ConnectionError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'Request Timeout', 'The request took too long to arrive']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'The request headers are too large']
        : error.code === 'HPE_INVALID_URL'
          ? [400, 'Bad Request', 'Malformed request path: percent-encode every byte that is not printable ASCII']
          : [400, 'Bad Request', 'Malformed HTTP request'];
  // The request line, as far as it arrived: it says which API's error shape to use.
  // (Fastify types rawPacket as a JSON-serialised Buffer; Node hands over the Buffer itself.)
  const raw: unknown = error.rawPacket;
  const target = Buffer.isBuffer(raw) ? (raw.toString('latin1').split('\r\n', 1)[0]?.split(' ')[1] ?? '') : '';
  const body = JSON.stringify(errorBody(target, status, message));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * URLs the router cannot take apart (a path that does not percent-decode, a parameter over
 * maxParamLength): our JSON error instead of Fastify's default one.
 */
function answerFrameworkError(error: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_BAD_URL') {
    void sendError(req, reply, 400, 'Malformed request path: it does not percent-decode');
  } else if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void sendError(req, reply, 400, 'A path segment is too long');
  } else {
    // FST_ERR_ASYNC_CONSTRAINT: no route here has async constraints, so this would be our bug.
    req.log.error({ err: error }, 'routing failed');
    void sendError(req, reply, 500, 'Internal server error');
  }
}

export const clientErrorOptions = {
  clientErrorHandler: answerClientError,
  frameworkErrors: answerFrameworkError,
} satisfies Pick<FastifyServerOptions, 'clientErrorHandler' | 'frameworkErrors'>;
