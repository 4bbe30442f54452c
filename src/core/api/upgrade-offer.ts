// Requests that offer to switch protocols (Connection: Upgrade + Upgrade: a WebSocket handshake, `curl --http2` on
// http://, a fuzzer). The API never switches, and RFC 9110 7.8 lets a server ignore the offer: such a request is
// served as the plain request it also is, as Masakari's own server does.
//
// Node cannot be left to do that by itself. llhttp marks the request as an upgrade from its headers alone; without
// an 'upgrade' listener Node serves it as a request, but its parser binding then swallows parse errors (it reports
// them only when llhttp's upgrade flag is clear): a badly chunked body gets no 'clientError' and never ends, and the
// request hangs until the request timeout. Bytes that follow the request in the same read are dropped as well.
// (shouldUpgradeCallback, Node 22.21/24.9, only chooses between the two events: declining leaves errors swallowed.)
//
// With an 'upgrade' listener, Node 20/22/24 stop right after the head and hand the socket over. Here the head is
// written again without the offer and given, with the bytes that followed it, to a new parser: the socket is handed
// to the server as a new connection (the documented way to inject one), so the body, its parse errors and any
// request pipelined behind it take the ordinary path. Node 26 (nodejs/node#60016) hands an offer whose body is still
// to come over at once, as a wrapper stream, while its own parser goes on reading that body: that one cannot be
// re-parsed and is refused by the caller.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** Node's own bookkeeping: the response a connection is writing now (what Node's default clientError checks). */
export const inFlightResponse = (socket: Socket) => (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;

/**
 * The head of an upgrade request written again without its offer: the Upgrade header goes, and the `upgrade` token
 * leaves Connection (the header goes when nothing else is left in it). Everything else stays as received: Node keeps
 * header names and values as latin1 strings, so latin1 gives back the bytes that arrived.
 */
export function headWithoutUpgradeOffer(req: Pick<IncomingMessage, 'method' | 'url' | 'httpVersion' | 'rawHeaders'>): Buffer {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    let value = req.rawHeaders[i + 1]!;
    const lower = name.toLowerCase();
    if (lower === 'upgrade') continue;
    if (lower === 'connection') {
      value = value
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '' && t.toLowerCase() !== 'upgrade')
        .join(', ');
      if (value === '') continue;
    }
    lines.push(`${name}: ${value}`);
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/**
 * The 'upgrade' listener's work: serves the offer as a plain request on a new parser. False when that cannot be
 * done (Node 26 handed over a wrapper stream, not the request's socket); the caller then refuses the request.
 */
export function serveAsPlainRequest(server: Server, req: IncomingMessage, stream: Duplex, rest: Buffer): boolean {
  if (stream !== req.socket) return false;
  const socket = req.socket;
  const bytes = Buffer.concat([headWithoutUpgradeOffer(req), rest]);
  // Node has taken its listeners off the socket, 'error' and 'end' too: a reset while an earlier answer is still
  // written would otherwise be an uncaught exception, and a client's FIN would be missed by the next connection.
  let ended = socket.readableEnded;
  const onEnd = () => (ended = true);
  const onError = () => socket.destroy();
  socket.on('error', onError);
  socket.once('end', onEnd);
  // Requests pipelined before this one may still be answered (Node queues their answers in the state of the
  // connection it just gave up): the new connection state would never see them finish, so it starts after them.
  const whenIdle = () => {
    if (socket.destroyed) return;
    const inFlight = inFlightResponse(socket);
    if (inFlight) return void inFlight.once('close', whenIdle);
    socket.off('error', onError);
    socket.off('end', onEnd);
    // The last answer may have set the keep-alive timeout on the socket; a fresh connection has none.
    socket.setTimeout(0);
    server.emit('connection', socket);
    // Handed to the new parser as a read would be (bytes still buffered in the socket follow: they flow only from
    // the next tick); unshift() cannot do this once the client's FIN has been read. One read, not head and rest
    // apart: the first could make Node pause the socket, and Node asserts that no read arrives while it is paused.
    socket.emit('data', bytes);
    if (ended) socket.emit('end');
  };
  whenIdle();
  return true;
}
