// Errors Node meets before Fastify sees a request (timeouts, oversized headers, bytes that are not
// HTTP), answered as problem details on the raw socket.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';

/**
 * Errors Node meets before a request reaches Fastify (a request not in within its time, headers too
 * large, bytes that are not HTTP), answered as problems too, then the connection is closed. Nothing
 * is written when the answer to the request had begun (Node's own rule).
 */
export const clientError =
  (requestTimeoutMs: number, log: Logger) =>
  (error: Error & { code?: string }, socket: Socket): void => {
    // As Fastify's own handler does: at debug level (the logger scrubs the bytes the error carries).
    log.debug({ err: error }, 'client error');
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, detail] =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, `the request did not arrive within ${requestTimeoutMs} ms (HTTP_REQUEST_TIMEOUT_MS)`]
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'the request headers are too large']
          : [400, 'not a valid HTTP request'];
    const answering = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (socket.writable && !answering) {
      const title = STATUS_CODES[status] ?? 'Error';
      const body = JSON.stringify({ type: 'about:blank', title, status, detail });
      socket.write(
        `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(error);
  };
